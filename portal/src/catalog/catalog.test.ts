import { describe, expect, it } from "vitest";

import { regions } from "@/testing/fixtures";

import { emptyFilters, filtersOf, ITEM_FILTERS, searchRequest } from "./filters";
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
  it("keeps what the gateway accepts and drops the rest", () => {
    expect(ITEM_FILTERS.q("x".repeat(150))).toHaveLength(100);
    expect(ITEM_FILTERS.q("  ")).toBeUndefined();
    expect(ITEM_FILTERS.region("320100")).toBe("320100");
    expect(ITEM_FILTERS.level).not.toContain("planet");
    expect(ITEM_FILTERS.mode).not.toContain("pigeon");
  });

  it("fills the form's filters, any where the URL sets none", () => {
    expect(filtersOf({ q: "护照", region: undefined, department: undefined, level: "city", mode: undefined })).toEqual({
      ...emptyFilters(),
      q: "护照",
      level: "city",
    });
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
