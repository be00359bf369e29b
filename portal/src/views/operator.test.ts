import { beforeEach, describe, expect, it, vi } from "vitest";

import type { Auth } from "@/auth";
import { catalogStats, deptAdmin, oidcClient, operator, ratingStats, signedInAs, stores } from "@/testing/staff";
import { apiError, fakeGateway, openApp, resetPage, settle, type GatewayTable } from "@/testing/support";

// jsdom draws nothing: the charts are replaced by a recorder of their options.
const charts = vi.hoisted(() => ({ options: [] as unknown[], disposed: 0 }));
vi.mock("@/components/charts/echarts", () => ({
  init: () => ({
    setOption: (option: unknown) => charts.options.push(option),
    resize: () => undefined,
    dispose: () => (charts.disposed += 1),
  }),
}));

type Table = GatewayTable;

function operatorGateway(overrides: Table = {}) {
  return fakeGateway({
    "GET /api/v1/stats/ratings": { body: ratingStats },
    "GET /api/v1/stores": { body: { items: stores, page: 1, page_size: 100, total: stores.length } },
    "GET /api/v1/stats/catalog": { body: catalogStats },
    "GET /api/v1/admin/oidc-clients": { body: { items: [oidcClient], page: 1, page_size: 20, total: 1 } },
    ...overrides,
  });
}

async function open(path: string, overrides: Table = {}, auth: Auth = signedInAs(operator)) {
  return openApp(path, operatorGateway(overrides), { auth });
}

beforeEach(() => {
  resetPage();
  charts.options.length = 0;
  charts.disposed = 0;
});

describe("flagship stores' board", () => {
  it("ranks the departments' and the cities' stores by praise rate with every rate", async () => {
    const { wrapper, requests } = await open("/operator/stores?from=2026-11-01&to=2026-11-30");
    expect(requests.find((r) => r.url.pathname === "/api/v1/stats/ratings")!.url.search).toBe("?from=2026-11-01&to=2026-11-30");
    const departments = wrapper.get("[data-kind=department]");
    expect(departments.findAll("tbody tr").map((r) => r.attributes("data-store"))).toEqual(["store-js-fire", "store-js-amr"]);
    const amr = departments.get("[data-store=store-js-amr]").findAll("td").map((c) => c.text());
    expect(amr).toEqual(["2", "100", "90%", "50%", "75%", "50%", "4.5"]);
    expect(departments.get("[data-store=store-js-fire]").findAll("td")[4]!.text()).toBe("—");
    expect(wrapper.get("[data-kind=city] tbody tr").text()).toContain("南京市旗舰店");
    expect(wrapper.get("#board-overall").text()).toBe("全省总体");
    wrapper.unmount();
  });

  it("orders by another rate from the URL, and shows a 503 with try again", async () => {
    const { wrapper } = await open("/operator/stores?sort=reviews");
    expect(wrapper.get("[data-kind=department] tbody tr").attributes("data-store")).toBe("store-js-amr");
    expect(wrapper.get("[data-kind=department] caption").text()).toBe("按评价数从高到低排列");
    wrapper.unmount();

    const down = await open("/operator/stores", { "GET /api/v1/stats/ratings": apiError(503, "unavailable") });
    expect(down.wrapper.get(".error-panel").attributes("data-kind")).toBe("503");
    expect(down.wrapper.find("[data-action=retry]").exists()).toBe(true);
    down.wrapper.unmount();
  });
});

describe("catalogue consistency report", () => {
  it("warns of deviating items in words and a shape, by level and by region", async () => {
    const { wrapper } = await open("/operator/catalog");
    expect(wrapper.get("[data-deviating]").text()).toBe("▲ 有 2 个已发布事项与基本目录不一致，请督促整改。");
    expect(wrapper.get("[data-level=city]").findAll("td").map((c) => c.text())).toEqual(["50", "35", "70%", "30", "2"]);
    expect(wrapper.get("[data-region='329999']").text()).toContain("未知地区");
    expect(wrapper.text()).toContain("存在不一致事项的地区：南京市");
    wrapper.unmount();
  });

  it("shows a 429 with the wait", async () => {
    const { wrapper } = await open("/operator/catalog", { "GET /api/v1/stats/catalog": { ...apiError(429, "rate_limited"), headers: { "Retry-After": "3" } } });
    expect(wrapper.get(".error-panel").attributes("data-kind")).toBe("429");
    expect(wrapper.text()).toContain("请在 3 秒后重试。");
    wrapper.unmount();
  });
});

describe("live dashboard", () => {
  class FakeEventSource {
    static last: FakeEventSource | null = null;
    readyState = 0;
    readonly listeners = new Map<string, ((event: MessageEvent) => void)[]>();
    closed = false;
    constructor(readonly url: string) {
      FakeEventSource.last = this;
    }
    addEventListener(type: string, listener: (event: MessageEvent) => void): void {
      this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
    }
    emit(type: string, data?: string): void {
      for (const listener of this.listeners.get(type) ?? []) listener(new MessageEvent(type, { data }));
    }
    close(): void {
      this.closed = true;
    }
  }
  const totals = { submitted: 12, accepted: 10, completed: 8, completed_on_time: 6, overdue: 1, denied: 1, rejected: 0, ems: 3 };

  it("follows the stream, announces the connection and gives every chart a table", async () => {
    vi.stubGlobal("EventSource", FakeEventSource);
    const { wrapper } = await open("/operator/live");
    const source = FakeEventSource.last!;
    expect(source.url).toBe("/api/v1/stats/live");
    expect(wrapper.get(".live__state").text()).toBe("○ 正在连接实时数据…");
    source.emit("open");
    source.emit("case_stats", JSON.stringify({ day: "2026-12-02", today: totals, all_time: { ...totals, submitted: 500 } }));
    await settle();
    expect(wrapper.get(".live__state").attributes("role")).toBe("status");
    expect(wrapper.get(".live__state").text()).toBe("● 实时数据已连接");
    expect(wrapper.get("[data-measure=submitted]").findAll("td").map((c) => c.text())).toEqual(["12", "500"]);
    expect(wrapper.get("[data-today]").text()).toContain("75%");
    const drawn = wrapper.findAll(".chart");
    expect(drawn).toHaveLength(2);
    for (const chart of drawn) {
      expect(chart.attributes("role")).toBe("img");
      expect(chart.attributes("aria-label")).toMatch(/表/);
    }
    expect(charts.options.length).toBeGreaterThanOrEqual(2);

    source.emit("case_stats", JSON.stringify({ day: "2026-12-02", today: { ...totals, submitted: 13 }, all_time: totals }));
    await settle();
    expect(wrapper.findAll("[data-trend-table] tbody tr")).toHaveLength(2);
    wrapper.unmount();
    expect(source.closed).toBe(true);
    expect(charts.disposed).toBe(2);
  });
});

describe("department systems (OpenID Connect clients)", () => {
  it("registers a system and shows its secret once, with a copy button and a warning", async () => {
    const writeText = vi.fn(async () => undefined);
    vi.stubGlobal("navigator", { ...navigator, clipboard: { writeText } });
    const { wrapper, requests } = await open("/operator/clients", {
      "POST /api/v1/admin/oidc-clients": { status: 201, body: { ...oidcClient, client_id: "c_new", client_secret: "s3cr3t-once" } },
    });
    await wrapper.get("[data-action=new-client]").trigger("click");
    await settle();
    expect(document.activeElement).toBe(wrapper.get("#client-form-title").element);
    expect(wrapper.findAll(".client-form legend").map((l) => l.text())).toEqual(["客户端认证方式"]);
    await wrapper.get("#client-name").setValue("苏州市住房公积金管理中心");
    await wrapper.get("#client-department").setValue("sz-gjj");
    await wrapper.get("#client-redirects").setValue("https://gjj.suzhou.gov.cn/callback\n\nhttps://gjj.suzhou.gov.cn/cb2 ");
    await wrapper.get("#client-skip-consent").setValue(true);
    await wrapper.get(".client-form").trigger("submit");
    await settle();
    expect(requests.find((r) => r.method === "POST")?.body).toEqual({
      name: "苏州市住房公积金管理中心",
      department_code: "sz-gjj",
      redirect_uris: ["https://gjj.suzhou.gov.cn/callback", "https://gjj.suzhou.gov.cn/cb2"],
      post_logout_redirect_uris: [],
      backchannel_logout_uri: null,
      jwks: null,
      public: false,
      skip_consent: true,
    });
    const panel = wrapper.get("[data-secret]");
    expect(document.activeElement).toBe(wrapper.get("#secret-title").element);
    expect(panel.text()).toContain("密钥只显示这一次");
    expect(panel.get("[data-secret-value]").text()).toBe("s3cr3t-once");
    await panel.get("[data-action=copy-secret]").trigger("click");
    await settle();
    expect(writeText).toHaveBeenCalledWith("s3cr3t-once");
    expect(panel.text()).toContain("已复制到剪贴板。");
    await panel.get("[data-action=forget-secret]").trigger("click");
    await settle();
    expect(wrapper.find("[data-secret]").exists()).toBe(false);
    expect(document.activeElement).toBe(wrapper.get("#clients-list").element);
    wrapper.unmount();
  });

  it("names each bad redirect URI of a 422 by its line, and checks the key set before sending", async () => {
    const { wrapper, requests } = await open("/operator/clients", {
      "POST /api/v1/admin/oidc-clients": apiError(422, "invalid", "invalid", { "redirect_uris.1": "must be https" }),
    });
    await wrapper.get("[data-action=new-client]").trigger("click");
    await wrapper.get("#client-proof-1").setValue(true);
    await wrapper.get("#client-jwks").setValue("{not json");
    await wrapper.get(".client-form").trigger("submit");
    await settle();
    expect(requests.some((r) => r.method === "POST")).toBe(false);
    expect(wrapper.get("#client-jwks-error").text()).toBe("公钥集合不是有效的 JSON，或缺少 keys 数组。");

    await wrapper.get("#client-jwks").setValue('{"keys": []}');
    await wrapper.get("#client-redirects").setValue("https://a.example/cb\nhttp://b.example/cb");
    await wrapper.get(".client-form").trigger("submit");
    await settle();
    expect(requests.find((r) => r.method === "POST")?.body).toMatchObject({ jwks: { keys: [] }, public: false });
    expect(wrapper.get("#register-error [data-field='redirect_uris.1']").text()).toBe("登录回调地址第 2 项：must be https");
    expect(wrapper.get("#register-error [data-field='redirect_uris.1'] a").attributes("href")).toBe("#client-redirects");
    expect(wrapper.get("#client-redirects-error").text()).toBe("第 2 行：must be https");
    wrapper.unmount();
  });

  it("changes a registration with PUT, keeping it public when it was", async () => {
    const { wrapper, requests } = await open("/operator/clients", {
      "GET /api/v1/admin/oidc-clients": { body: { items: [{ ...oidcClient, token_endpoint_auth_method: "none" }], page: 1, page_size: 20, total: 1 } },
      "PUT /api/v1/admin/oidc-clients/c_gjj": { body: oidcClient },
    });
    await wrapper.get("[data-action=edit-c_gjj]").trigger("click");
    await settle();
    expect((wrapper.get("#client-proof-2").element as HTMLInputElement).checked).toBe(true);
    await wrapper.get("#client-name").setValue("公积金中心");
    await wrapper.get(".client-form").trigger("submit");
    await settle();
    const put = requests.find((r) => r.method === "PUT")!;
    expect(put.body).toMatchObject({ name: "公积金中心", public: true, redirect_uris: ["https://gjj.suzhou.gov.cn/callback"] });
    expect(wrapper.find(".client-form").exists()).toBe(false);
    expect(document.activeElement).toBe(wrapper.get("#clients-list").element);
    wrapper.unmount();
  });

  it("removes after asking in place, and rotates the secret to show the new one", async () => {
    const { wrapper, requests } = await open("/operator/clients", {
      "DELETE /api/v1/admin/oidc-clients/c_gjj": { status: 204 },
      "POST /api/v1/admin/oidc-clients/c_gjj/secret": { body: { ...oidcClient, client_secret: "n3w" } },
    });
    await wrapper.get("[data-action=delete-c_gjj]").trigger("click");
    await settle();
    expect(wrapper.get("#client-confirm-question").text()).toContain("苏州市住房公积金管理中心");
    expect(document.activeElement).toBe(wrapper.get("#client-confirm-yes").element);
    await wrapper.get("[data-action=confirm]").trigger("click");
    await settle();
    expect(requests.some((r) => r.method === "DELETE" && r.url.pathname === "/api/v1/admin/oidc-clients/c_gjj")).toBe(true);
    expect(wrapper.get(".page > [role=status]").text()).toBe("系统已删除。");

    await wrapper.get("[data-action=rotate-c_gjj]").trigger("click");
    await settle();
    expect(wrapper.get("#client-confirm-question").text()).toContain("旧密钥立即失效");
    await wrapper.get("[data-action=confirm]").trigger("click");
    await settle();
    expect(wrapper.get("[data-secret-value]").text()).toBe("n3w");
    wrapper.unmount();
  });

  it("shows a 404 of a removal in place, and a department admin reads without changing", async () => {
    const { wrapper } = await open("/operator/clients", { "DELETE /api/v1/admin/oidc-clients/c_gjj": apiError(404, "not_found") });
    await wrapper.get("[data-action=delete-c_gjj]").trigger("click");
    await wrapper.get("[data-action=confirm]").trigger("click");
    await settle();
    expect(wrapper.get("#delete-error .error-panel").attributes("data-kind")).toBe("404");
    expect(document.activeElement).toBe(wrapper.get("#delete-error").element);
    wrapper.unmount();

    const admin = await open("/operator/clients", {}, signedInAs(deptAdmin));
    expect(admin.wrapper.find("[data-client=c_gjj]").exists()).toBe(true);
    expect(admin.wrapper.find("[data-action=new-client]").exists()).toBe(false);
    expect(admin.wrapper.find("[data-action=edit-c_gjj]").exists()).toBe(false);
    admin.wrapper.unmount();
  });

  it("shows the API's 403 for the list", async () => {
    const { wrapper } = await open("/operator/clients", { "GET /api/v1/admin/oidc-clients": apiError(403, "forbidden") });
    expect(wrapper.get(".error-panel").attributes("data-kind")).toBe("403");
    wrapper.unmount();
  });
});
