import { mount } from "@vue/test-utils";
import { describe, expect, it, vi } from "vitest";
import { defineComponent, h } from "vue";
import { createMemoryHistory, createRouter } from "vue-router";

import type { Page } from "@/api";
import { textFilter, usePagedQuery, type PagedQuery } from "@/pagedQuery";

const FILTERS = { state: ["open", "closed"], sort: ["newest", "due"], q: textFilter(5) } as const;
type Spec = typeof FILTERS;

const settle = () => new Promise((resolve) => setTimeout(resolve));

function pageOf(page: number, total = 45): Page<string> {
  return { items: [`row ${page}`], page, page_size: 20, total };
}

async function open(path: string) {
  const router = createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: "/list", name: "list", component: { render: () => null } },
      { path: "/other", name: "other", component: { render: () => null } },
    ],
  });
  await router.push(path);
  await router.isReady();
  const fetch = vi.fn(async (query: { page: number }, _signal: AbortSignal) => pageOf(query.page));
  const target = document.createElement("h2");
  target.tabIndex = -1;
  document.body.append(target);
  let paged!: PagedQuery<Spec, string>;
  mount(
    defineComponent({
      setup() {
        paged = usePagedQuery({ name: "list", filters: FILTERS, defaults: { sort: "newest" }, fetch, focus: () => target });
        return () => h("div");
      },
    }),
    { global: { plugins: [router] } },
  );
  await settle();
  return { router, fetch, paged, target };
}

describe("usePagedQuery", () => {
  it("reads the filters and the page from the URL, dropping unknown values", async () => {
    const { fetch, paged } = await open("/list?state=open&sort=sideways&page=3");
    expect(paged.query.value).toEqual({ state: "open", sort: undefined, q: undefined, page: 3 });
    expect(fetch).toHaveBeenCalledTimes(1);
    expect(fetch.mock.calls[0]![0]).toEqual({ state: "open", sort: undefined, q: undefined, page: 3 });
    expect(paged.data.value?.page).toBe(3);
  });

  it("shows the URL's filters in the form, a default where none is given", async () => {
    const { paged } = await open("/list?state=closed");
    expect({ ...paged.choices }).toEqual({ state: "closed", sort: "newest", q: "" });
  });

  it("writes a page's query without defaults and page 1", async () => {
    const { paged } = await open("/list?state=open&sort=due&page=2");
    expect(paged.queryOf(1)).toEqual({ state: "open", sort: "due" });
    expect(paged.queryOf(4)).toEqual({ state: "open", sort: "due", page: "4" });
    expect(paged.page.value).toBe(2);
    expect(paged.linkTo(3)).toEqual({ name: "list", query: { state: "open", sort: "due", page: "3" } });
  });

  it("applies the form's choices from page 1, clears them, and reads again with the focus on the results", async () => {
    const { router, fetch, paged, target } = await open("/list?page=2");
    expect(document.activeElement).not.toBe(target);
    paged.choices.state = "closed";
    paged.choices.sort = "newest";
    paged.apply();
    await settle();
    expect(router.currentRoute.value.fullPath).toBe("/list?state=closed");
    expect(fetch).toHaveBeenCalledTimes(2);
    expect(fetch.mock.calls[1]![0]).toEqual({ state: "closed", sort: undefined, q: undefined, page: 1 });
    expect(document.activeElement).toBe(target);

    paged.clear();
    await settle();
    expect(router.currentRoute.value.fullPath).toBe("/list");
    expect(paged.choices.state).toBe("");
    expect(fetch).toHaveBeenCalledTimes(3);
  });

  it("reads free text as its filter cleans it", async () => {
    const { paged } = await open("/list?q=%20%20abcdefgh&state=open");
    expect(paged.query.value.q).toBe("abcde");
    expect(paged.choices.q).toBe("abcde");
    expect(paged.queryOf(2)).toEqual({ state: "open", q: "abcde", page: "2" });
  });

  it("reads the same search again when it is applied again", async () => {
    const { router, fetch, paged, target } = await open("/list?state=open");
    paged.apply();
    await settle();
    expect(router.currentRoute.value.fullPath).toBe("/list?state=open");
    expect(fetch).toHaveBeenCalledTimes(2);
    expect(document.activeElement).not.toBe(target);
  });

  it("does not read again when the reader leaves for another page", async () => {
    const { router, fetch, paged } = await open("/list?state=open");
    await router.push("/other?state=closed&page=2");
    await settle();
    expect(fetch).toHaveBeenCalledTimes(1);
    expect(paged.query.value).toEqual({ state: "open", sort: undefined, q: undefined, page: 1 });
  });
});
