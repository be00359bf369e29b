import { describe, expect, it } from "vitest";

import { regions } from "@/testing/fixtures";

import { emptyFilters, filtersFromQuery, queryFromFilters, searchRequest } from "./filters";
import { buildRegionTree, cityAndCounty, regionLabel, regionPath } from "./regions";

describe("region tree", () => {
  const tree = buildRegionTree([...regions].reverse());

  it("hangs cities under the province and counties under their city, in code order", () => {
    expect(tree.root?.code).toBe("320000");
    expect(tree.childrenOf("320000").map((r) => r.name)).toEqual(["南京市", "无锡市"]);
    expect(tree.childrenOf("320100").map((r) => r.name)).toEqual(["玄武区", "秦淮区"]);
    expect(tree.childrenOf("320102")).toEqual([]);
  });

  it("names a region by its path", () => {
    expect(regionPath(tree, "320104").map((r) => r.code)).toEqual(["320000", "320100", "320104"]);
    expect(regionLabel(tree, "320104")).toBe("江苏省 南京市 秦淮区");
    expect(regionLabel(tree, "999999")).toBe("999999");
    expect(regionLabel(null, "320100")).toBe("320100");
  });

  it("splits a region into the city and county pickers", () => {
    expect(cityAndCounty(tree, "320104")).toEqual(["320100", "320104"]);
    expect(cityAndCounty(tree, "320200")).toEqual(["320200", ""]);
    expect(cityAndCounty(tree, "320000")).toEqual(["", ""]);
    expect(cityAndCounty(tree, "nowhere")).toEqual(["", ""]);
    expect(cityAndCounty(tree, undefined)).toEqual(["", ""]);
  });
});

describe("search filters in the URL", () => {
  it("round-trips through the query", () => {
    const filters = { q: "营业执照", region: "320100", department: "nj-amr", level: "city", mode: "online" } as const;
    const query = queryFromFilters(filters, 3);
    expect(query).toEqual({ ...filters, page: "3" });
    expect(filtersFromQuery(query as Record<string, string>)).toEqual({ filters, page: 3 });
  });

  it("leaves out what is not set, and page 1", () => {
    expect(queryFromFilters({ ...emptyFilters(), q: "  " })).toEqual({});
  });

  it("drops values the gateway would refuse", () => {
    const { filters, page } = filtersFromQuery({ level: "planet", mode: "pigeon", page: "-1", q: "x".repeat(150) });
    expect(filters.level).toBe("");
    expect(filters.mode).toBe("");
    expect(filters.q).toHaveLength(100);
    expect(page).toBe(1);
  });

  it("asks the gateway for the set filters and the page", () => {
    expect(searchRequest({ ...emptyFilters(), q: " 护照 ", level: "county" }, 2, 20)).toEqual({
      q: "护照",
      level: "county",
      page: 2,
      page_size: 20,
    });
  });
});
