import { beforeEach, describe, expect, it, vi } from "vitest";

import { departmentsByRegion, itemGuide, itemSummary, regions, store } from "@/testing/fixtures";
import { apiError, fakeGateway, openApp, settle, type GatewayTable } from "@/testing/support";

type Table = GatewayTable;

function catalogue(overrides: Table = {}) {
  return fakeGateway({
    "GET /api/v1/regions": { body: { items: regions } },
    "GET /api/v1/departments": (request) => ({
      body: { items: departmentsByRegion[request.url.searchParams.get("region") ?? ""] ?? [] },
    }),
    "GET /api/v1/items": (request) => {
      const page = Number(request.url.searchParams.get("page") ?? "1");
      return {
        body: {
          items: Array.from({ length: 20 }, (_, i) => ({ ...itemSummary, item_id: `item-${page}-${i}` })),
          page,
          page_size: 20,
          total: 45,
        },
      };
    },
    "GET /api/v1/items/item-1": { body: itemGuide },
    "GET /api/v1/stores/store-js-amr": { body: store },
    "GET /api/v1/stores": {
      body: {
        items: [store, { ...store, store_id: "store-nj", name: "南京市旗舰店", kind: "city", department_code: null, region_code: "320100", rating: { reviews: 0, praise_rate: null, average_grade: null } }],
        page: 1,
        page_size: 20,
        total: 2,
      },
    },
    ...overrides,
  });
}

async function open(path: string, overrides: Table = {}, locale: "zh-CN" | "en" = "zh-CN") {
  return openApp(path, catalogue(overrides), { locale });
}

beforeEach(() => {
  // jsdom has no layout: the router's scroll on navigation goes nowhere.
  vi.spyOn(window, "scrollTo").mockImplementation(() => undefined);
  document.body.innerHTML = "";
  localStorage.clear();
});

describe("layout", () => {
  it("has a skip link to the main landmark, a banner, a labelled navigation and a footer", async () => {
    const { wrapper } = await open("/");
    const skip = wrapper.get("a.skip-link");
    expect(skip.attributes("href")).toBe("#main");
    expect(wrapper.get("header").text()).toContain("通办");
    expect(wrapper.get("nav.site-nav").attributes("aria-label")).toBe("主导航");
    expect(wrapper.get("main#main").attributes("tabindex")).toBe("-1");
    expect(wrapper.find("footer").exists()).toBe(true);

    await skip.trigger("click");
    expect(document.activeElement).toBe(wrapper.get("main").element);
    wrapper.unmount();
  });

  it("marks the current page in the navigation", async () => {
    const { wrapper } = await open("/stores");
    expect(wrapper.get("a.site-nav__link--active").text()).toBe("旗舰店");
    expect(wrapper.get("a.site-nav__link--active").attributes("aria-current")).toBe("page");
    wrapper.unmount();
  });
});

describe("home: catalogue search", () => {
  it("searches with the URL's filters and lists the items with their facts", async () => {
    const { wrapper, requests } = await open("/?q=食品&level=province&page=2");
    const search = requests.find((r) => r.url.pathname === "/api/v1/items");
    expect(Object.fromEntries(search?.url.searchParams ?? [])).toEqual({
      q: "食品",
      level: "province",
      page: "2",
      page_size: "20",
    });
    expect(wrapper.get("[role=status]").text()).toBe("共 45 项，第 21–40 项");
    const cards = wrapper.findAll(".item-card");
    expect(cards).toHaveLength(20);
    expect(cards[0]?.text()).toContain("食品生产许可证核发（保健食品）");
    expect(cards[0]?.text()).toContain("全程网办");
    expect(cards[0]?.text()).toContain("10 个工作日");
    expect(cards[0]?.get("a").attributes("href")).toBe("/items/item-2-0");
    expect(document.title).toBe("办事大厅 - 通办");
    wrapper.unmount();
  });

  it("pages with real links that keep the filters", async () => {
    const { wrapper, router } = await open("/?q=食品");
    const pager = wrapper.get("nav.pager");
    expect(pager.get("[aria-current=page]").text()).toContain("1");
    const next = pager.get("a[rel=next]");
    expect(next.attributes("href")).toBe("/?q=%E9%A3%9F%E5%93%81&page=2");

    await next.trigger("click");
    await settle();
    expect(router.currentRoute.value.query).toEqual({ q: "食品", page: "2" });
    expect(wrapper.get("[role=status]").text()).toBe("共 45 项，第 21–40 项");
    // The reader starts at the new page's results.
    expect(document.activeElement?.id).toBe("results-heading");
    wrapper.unmount();
  });

  it("puts a submitted search in the URL, from page 1", async () => {
    const { wrapper, router } = await open("/?page=3");
    await wrapper.get("#search-q").setValue("营业执照");
    await wrapper.get("#search-city").setValue("320100");
    await wrapper.get("form[role=search]").trigger("submit");
    await settle();
    expect(router.currentRoute.value.query).toEqual({ q: "营业执照", region: "320100" });
    wrapper.unmount();
  });

  it("starts the reader at the results of a new search, and reads the same search again when asked", async () => {
    const { wrapper, requests } = await open("/?q=食品");
    const searches = () => requests.filter((r) => r.url.pathname === "/api/v1/items").length;
    expect(searches()).toBe(1);

    await wrapper.get("#search-level").setValue("city");
    await wrapper.get("form[role=search]").trigger("submit");
    await settle();
    expect(searches()).toBe(2);
    expect(document.activeElement?.id).toBe("results-heading");

    await wrapper.get("form[role=search]").trigger("submit");
    await settle();
    expect(searches()).toBe(3);
    wrapper.unmount();
  });

  it("holds the form's place while the region list is read", async () => {
    let answerRegions!: () => void;
    const regionsAsked = new Promise<void>((resolve) => (answerRegions = resolve));
    const gateway = catalogue();
    const slow: typeof fetch = async (input, init) => {
      if (String(input).includes("/regions")) await regionsAsked;
      return gateway.fetch(input, init);
    };
    const { wrapper } = await openApp("/", { fetch: slow, requests: gateway.requests });
    const controls = () => wrapper.findAll(".search-form select").map((select) => select.attributes("id"));
    expect(controls()).toEqual(["search-city", "search-county", "search-department", "search-level", "search-mode"]);
    expect(wrapper.get("#search-city").attributes("disabled")).toBeDefined();
    // The results come meanwhile, their regions named once the list is there.
    expect(wrapper.findAll(".item-card")).toHaveLength(20);

    answerRegions();
    await settle();
    expect(controls()).toEqual(["search-city", "search-county", "search-department", "search-level", "search-mode"]);
    expect(wrapper.get("#search-city").attributes("disabled")).toBeUndefined();
    expect(wrapper.get(".item-card__meta").text()).toContain("江苏省");
    wrapper.unmount();
  });

  it("says so when nothing matches", async () => {
    const { wrapper } = await open("/?q=无此事项", {
      "GET /api/v1/items": { body: { items: [], page: 1, page_size: 20, total: 0 } },
    });
    expect(wrapper.get("[role=status]").text()).toContain("没有找到符合条件的事项");
    expect(wrapper.find("nav.pager").exists()).toBe(false);
    wrapper.unmount();
  });

  it("shows a refused search by its fields, and a busy gateway with a retry", async () => {
    let calls = 0;
    const { wrapper } = await open("/?q=x", {
      "GET /api/v1/items": () => {
        calls += 1;
        return calls === 1
          ? { ...apiError(503, "unavailable", "catalog is unavailable") }
          : { body: { items: [itemSummary], page: 1, page_size: 20, total: 1 } };
      },
    });
    expect(wrapper.get(".error-panel h3").text()).toBe("服务暂时不可用");
    await wrapper.get("[data-action=retry]").trigger("click");
    await settle();
    expect(wrapper.find(".error-panel").exists()).toBe(false);
    expect(wrapper.findAll(".item-card")).toHaveLength(1);
    wrapper.unmount();
  });

  it("shows English names when the reader chose English", async () => {
    const { wrapper } = await open("/", {}, "en");
    const card = wrapper.get(".item-card");
    expect(card.get("h3").text()).toBe("Food production licence (health foods)");
    expect(card.get("[lang=zh-CN]").text()).toBe("食品生产许可证核发（保健食品）");
    expect(card.text()).toContain("10 working days");
    wrapper.unmount();
  });
});

describe("item guide", () => {
  it("shows conditions, materials, time limits, fees, handling, visits and the store's praise rate", async () => {
    const { wrapper } = await open("/items/item-1");
    const text = wrapper.text();
    expect(wrapper.get("h1").text()).toBe("食品生产许可证核发（保健食品）");
    expect(text).toContain("申请人已取得营业执照等合法主体资格");
    expect(text).toContain("食品生产许可申请书");
    expect(text).toContain("承诺办结时限10 个工作日");
    expect(text).toContain("法定办结时限20 个工作日");
    expect(text).toContain("12.50 元");
    expect(text).toContain("到现场次数1 次");
    expect(text).toContain("全程网办、快递办、窗口办");
    expect(text).toContain("好评率 66.7%");
    expect(text).toContain("3 条评价");
    expect(text).toContain("江苏省");
    expect(document.title).toBe("食品生产许可证核发（保健食品） - 通办");
    wrapper.unmount();
  });

  it("keeps links from the catalogue to the web", async () => {
    const { wrapper } = await open("/items/item-1");
    const hrefs = wrapper.findAll(".material__links a").map((a) => a.attributes("href"));
    expect(hrefs).toEqual(["https://zwfw.example.gov.cn/forms/blank.pdf"]);
    wrapper.unmount();
  });

  it("stands without the store's rating when that fails", async () => {
    const { wrapper } = await open("/items/item-1", {
      "GET /api/v1/stores/store-js-amr": apiError(503, "unavailable"),
    });
    expect(wrapper.get("h1").text()).toBe("食品生产许可证核发（保健食品）");
    expect(wrapper.text()).toContain("旗舰店评价暂时无法加载");
    wrapper.unmount();
  });

  it("says an unknown item is not found and leads back to the search", async () => {
    const { wrapper } = await open("/items/gone", {
      "GET /api/v1/items/gone": apiError(404, "not_found", "unknown item"),
    });
    expect(wrapper.get(".error-panel h1").text()).toBe("未找到相关内容");
    expect(wrapper.get("[data-action=home]").attributes("href")).toBe("/");
    expect(document.title).toBe("未找到相关内容 - 通办");
    wrapper.unmount();
  });
});

describe("stores board", () => {
  it("lists the stores with their praise rates and links to their items", async () => {
    const { wrapper, requests } = await open("/stores");
    const rows = wrapper.findAll("tbody tr");
    expect(rows).toHaveLength(2);
    expect(rows[0]?.text()).toContain("江苏省市场监督管理局旗舰店");
    expect(rows[0]?.text()).toContain("好评率 66.7%");
    expect(rows[0]?.get("a").attributes("href")).toBe("/?department=js-amr&region=320000");
    expect(rows[1]?.text()).toContain("暂无评价");
    expect(rows[1]?.text()).toContain("南京市");
    expect(rows[1]?.get("a").attributes("href")).toBe("/?region=320100");
    expect(wrapper.get("[role=status]").text()).toBe("共 2 家");
    expect(requests.find((r) => r.url.pathname === "/api/v1/stores")?.url.search).toBe("?page=1&page_size=20");
    wrapper.unmount();
  });

  it("filters by kind and city through the URL", async () => {
    const { wrapper, router, requests } = await open("/stores");
    await wrapper.get("#stores-kind").setValue("city");
    await wrapper.get("#stores-region").setValue("320100");
    await wrapper.get("form.filter-bar").trigger("submit");
    await settle();
    expect(router.currentRoute.value.query).toEqual({ kind: "city", region: "320100" });
    const last = requests.filter((r) => r.url.pathname === "/api/v1/stores").at(-1);
    expect(Object.fromEntries(last?.url.searchParams ?? [])).toEqual({
      kind: "city",
      region: "320100",
      page: "1",
      page_size: "20",
    });
    wrapper.unmount();
  });
});

describe("unknown paths", () => {
  it("answer with a page that says so", async () => {
    const { wrapper } = await open("/no/such/page");
    expect(wrapper.get("h1").text()).toBe("页面不存在");
    wrapper.unmount();
  });
});
