import { describe, expect, it } from "vitest";
import { computed, h, ref, type Component } from "vue";

import type { Page } from "@/api";
import PagedResults from "@/components/PagedResults.vue";
import { ApiError } from "@/api";
import zhCN from "@/i18n/zh-CN";
import type { PagedList } from "@/pagedQuery";
import { portalMount } from "@/testing/support";

// A generic component; mounted here with string rows.
const Results = PagedResults as unknown as Component;
const page: Page<string> = { items: ["a", "b"], page: 2, page_size: 2, total: 5 };
const base = { count: "cases.count", none: "cases.none" };

/** A page as usePagedQuery would hold it. */
function paged(list: Page<string> | null, { loading = false, error = null as unknown } = {}): PagedList<string> {
  return {
    data: ref(list),
    loading: ref(loading),
    error: ref(error),
    load: async () => undefined,
    page: computed(() => 2),
    linkTo: (n) => ({ name: "home", query: { page: String(n) } }),
  };
}

describe("PagedResults", () => {
  it("says it is loading until the first page is there", async () => {
    const { wrapper } = await portalMount(Results, { props: { ...base, paged: paged(null, { loading: true }) } });
    expect(wrapper.get("[role=status]").text()).toBe(zhCN.common.loading);
  });

  it("shows a failure through ErrorPresenter", async () => {
    const error = new ApiError({ status: 503, code: "unavailable", message: "unavailable" });
    const { wrapper } = await portalMount(Results, { props: { ...base, paged: paged(page, { error }) } });
    expect(wrapper.find("table").exists()).toBe(false);
    expect(wrapper.text()).toContain(zhCN.errors.status["503"].title);
  });

  it("announces the count, puts the rows in a named table group and links the pages", async () => {
    const { wrapper } = await portalMount(Results, {
      props: { ...base, paged: paged(page), table: "结果", tableClass: "extra" },
      slots: { default: ({ items }: { items: string[] }) => h("tbody", items.map((item) => h("tr", [h("td", item)]))) },
    });
    expect(wrapper.get("p.results__status[role=status]").text()).toContain("5");
    const region = wrapper.get(".table-scroll[role=group]");
    expect(region.attributes("aria-label")).toBe("结果");
    expect(region.get("table").classes()).toEqual(["table", "extra"]);
    expect(region.findAll("td").map((c) => c.text())).toEqual(["a", "b"]);
    expect(wrapper.find("nav").exists()).toBe(true);
  });

  it("says so when the list is empty, and gives the caller's own markup without `table`", async () => {
    const empty = await portalMount(Results, { props: { ...base, paged: paged({ ...page, items: [], total: 0 }) } });
    expect(empty.wrapper.get("[role=status]").text()).toBe(zhCN.cases.none);
    const own = await portalMount(Results, {
      props: { ...base, paged: paged(page) },
      slots: { default: ({ items }: { items: string[] }) => h("ul", { class: "rows" }, items.map((item) => h("li", item))) },
    });
    expect(own.wrapper.find("table").exists()).toBe(false);
    expect(own.wrapper.findAll(".rows li").map((li) => li.text())).toEqual(["a", "b"]);
  });
});
