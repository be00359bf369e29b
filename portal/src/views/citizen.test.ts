import { beforeEach, describe, expect, it, vi } from "vitest";
import { createMemoryHistory } from "vue-router";

import { OidcError, type Auth } from "@/auth";
import { signInKey } from "@/components/errorKind";
import { createPortalRouter } from "@/router";
import {
  application,
  fakeAuth,
  licence,
  licenceCheck,
  licenceView,
  LICENCE_NO,
  mandate,
  shipment,
  workItem,
} from "@/testing/citizen";
import { itemGuide } from "@/testing/fixtures";
import {
  apiError,
  expectLabelled,
  fakeGateway,
  openApp,
  resetPage,
  settle,
  type Answer,
  type GatewayTable,
} from "@/testing/support";

type Table = GatewayTable;

const LICENCE_PATH = `/api/v1/licences/${LICENCE_NO}`;

function citizenGateway(overrides: Table = {}) {
  return fakeGateway({
    "GET /api/v1/items/item-1": { body: itemGuide },
    "GET /api/v1/items/item-1/process": {
      body: { item_id: "item-1", version: 1, definition: { steps: [{ id: "a", kind: "accept" }, { id: "z", kind: "assessment" }] } },
    },
    "GET /api/v1/licences": { body: { items: [licence, { ...licence, licence_no: "JS00000000000000000001", valid: false }] } },
    "GET /api/v1/me/mandates": { body: { items: [mandate], page: 1, page_size: 100, total: 1 } },
    "GET /api/v1/applications": { body: { items: [workItem], page: 1, page_size: 20, total: 1 } },
    "GET /api/v1/applications/a-1": { body: application() },
    "GET /api/v1/shipments": { body: { items: [shipment] } },
    [`GET ${LICENCE_PATH}`]: { body: licenceView },
    [`GET ${LICENCE_PATH}/verify`]: { body: licenceCheck },
    ...overrides,
  });
}

async function open(
  path: string,
  overrides: Table = {},
  auth: Auth = fakeAuth().auth,
  locale: "zh-CN" | "en" = "zh-CN",
  provide: Record<symbol, unknown> = {},
) {
  return openApp(path, citizenGateway(overrides), { auth, locale, provide });
}

beforeEach(resetPage);

describe("route guard", () => {
  it("sends a signed-out reader to sign in, coming back to the page asked for", async () => {
    const { auth } = fakeAuth("signed_out");
    const router = createPortalRouter(createMemoryHistory(), auth);
    await router.push("/");
    await router.push("/my/cases?page=2");
    expect(auth.signIn).toHaveBeenCalledWith("/my/cases?page=2");
    expect(router.currentRoute.value.path).toBe("/");
  });

  it("lets a signed-in reader through, and never guards public pages", async () => {
    const signedIn = fakeAuth("signed_in").auth;
    const router = createPortalRouter(createMemoryHistory(), signedIn);
    await router.push("/my/licences");
    expect(router.currentRoute.value.name).toBe("my-licences");

    const signedOut = fakeAuth("signed_out").auth;
    const publicRouter = createPortalRouter(createMemoryHistory(), signedOut);
    await publicRouter.push(`/verify/${LICENCE_NO}`);
    expect(publicRouter.currentRoute.value.name).toBe("verify");
    expect(signedOut.signIn).not.toHaveBeenCalled();
  });

  it("lands on the sign-in page when the provider cannot be reached", async () => {
    const { auth } = fakeAuth("signed_out", vi.fn(async () => Promise.reject(new OidcError("network"))));
    const router = createPortalRouter(createMemoryHistory(), auth);
    await router.push("/my/cases");
    expect(router.currentRoute.value.name).toBe("sign-in");
    expect(router.currentRoute.value.query).toEqual({ return_to: "/my/cases", failed: "1" });
  });
});

describe("sign-in in the header and at the callback", () => {
  it("shows who is signed in, the account's pages and signs out", async () => {
    const { auth } = fakeAuth();
    const { wrapper } = await open("/", {}, auth);
    expect(wrapper.get(".site-header__user").text()).toBe("已登录：张三");
    expect(wrapper.findAll(".site-nav__link").map((l) => l.text())).toEqual(["办事大厅", "旗舰店", "证照核验", "我的办件", "我的证照"]);
    await wrapper.get("[data-action=sign-out]").trigger("click");
    expect(auth.signOut).toHaveBeenCalled();
    wrapper.unmount();
  });

  it("offers sign-in when signed out, returning to the page", async () => {
    const { auth } = fakeAuth("signed_out");
    const { wrapper } = await open(`/verify/${LICENCE_NO}`, {}, auth);
    await wrapper.get(".site-header [data-action=sign-in]").trigger("click");
    expect(auth.signIn).toHaveBeenCalledWith(`/verify/${LICENCE_NO}`);
    wrapper.unmount();
  });

  it("finishes sign-in and goes back where the reader was", async () => {
    const { auth, handleCallback } = fakeAuth();
    const { wrapper, router } = await open("/auth/callback?code=c&state=s", {}, auth);
    expect(handleCallback).toHaveBeenCalledWith("/auth/callback?code=c&state=s");
    await vi.waitFor(() => expect(router.currentRoute.value.fullPath).toBe("/my/cases"), { timeout: 5000 });
    wrapper.unmount();
  });

  it("says why sign-in did not finish and offers to sign in again", async () => {
    const { auth, handleCallback } = fakeAuth("signed_out");
    handleCallback.mockRejectedValueOnce(new OidcError("access_denied", "denied"));
    const { wrapper } = await open("/auth/callback?error=access_denied&state=s", {}, auth);
    const alert = wrapper.get("[role=alert]");
    expect(alert.text()).toContain("登录未完成");
    expect(alert.text()).toContain("您没有同意授权");
    await wrapper.get(".auth-callback [data-action=sign-in]").trigger("click");
    expect(auth.signIn).toHaveBeenCalledWith("/");
    wrapper.unmount();
  });
});

describe("apply", () => {
  it("offers myself, my enterprise and the enterprise that mandated me, and the item's ways of handling", async () => {
    const { wrapper } = await open("/items/item-1/apply");
    expect(wrapper.get("h1").text()).toBe("在线申请：食品生产许可证核发（保健食品）");
    const legends = wrapper.findAll("legend").map((l) => l.text());
    expect(legends).toEqual(expect.arrayContaining(["申请主体", "办理方式", "申请信息"]));
    const applicants = wrapper.findAll("input[name=applicant]").map((input) => wrapper.get(`label[for=${input.attributes("id")}]`).text());
    expect(applicants).toEqual([
      "本人申请",
      "为企业办理：南京示例食品有限公司（本企业负责人）",
      "为企业办理：南京代办委托有限公司（代办授权至 2027年6月30日）",
    ]);
    expect(wrapper.findAll("input[name=mode]").map((i) => i.attributes("value"))).toEqual(["online", "express", "window"]);
    // The process has a regional assessment step: the zone is asked for.
    expect(wrapper.find("#apply-zone").exists()).toBe(true);
    // Only valid licences can stand in for a material.
    expect(wrapper.findAll("#apply-material-0-licence_no option").map((o) => o.attributes("value"))).toEqual(["", LICENCE_NO]);
    expect(wrapper.text()).toContain("本事项收费 12.50 元");
    expectLabelled(wrapper.get("form").element);
    wrapper.unmount();
  });

  it("applies for an enterprise by EMS with an address, once per filled form, and opens the new case", async () => {
    const { wrapper, router, requests } = await open("/items/item-1/apply", {
      "POST /api/v1/applications": { status: 201, body: { application_id: "a-1", state: "submitted", due_date: "2026-12-16" } },
    });
    await wrapper.get("#apply-applicant-2").setValue(true);
    await wrapper.get("#apply-mode-1").setValue(true);
    const address = { name: "张三", phone: "13800138000", province: "江苏省", city: "南京市", district: "玄武区", street: "北京东路2号", postcode: "210000" };
    for (const [key, value] of Object.entries(address)) await wrapper.get(`#apply-address-${key}`).setValue(value);
    await wrapper.get("#apply-zone").setValue(" zone-jn ");
    await wrapper.get("#apply-material-0-licence_no").setValue(LICENCE_NO);
    await wrapper.get("form").trigger("submit");
    await settle();

    const post = requests.find((r) => r.method === "POST");
    expect(post?.body).toEqual({
      item_id: "item-1",
      on_behalf_of: { kind: "enterprise", uscc: "91320105MA1ABCD123" },
      form: { zone_id: "zone-jn" },
      materials: [{ name: "食品生产许可申请书", licence_no: LICENCE_NO }],
      delivery: { mode: "express", address },
    });
    expect(post?.headers.get("Idempotency-Key")).toBeTruthy();
    await vi.waitFor(() => expect(router.currentRoute.value.fullPath).toBe("/my/cases/a-1"), { timeout: 5000 });
    wrapper.unmount();
  });

  it("sends paper materials with their copies, and nothing for an online application's address", async () => {
    const { wrapper, requests } = await open("/items/item-1/apply", {
      "POST /api/v1/applications": { status: 201, body: { application_id: "a-1", state: "submitted", due_date: "2026-12-16" } },
    });
    await wrapper.get("#apply-mode-2").setValue(true);
    await wrapper.get("form").trigger("submit");
    await settle();
    const post = requests.find((r) => r.method === "POST");
    expect(post?.body).toMatchObject({
      on_behalf_of: null,
      materials: [{ name: "食品生产许可申请书", copies: 1, original: true }],
      delivery: { mode: "window", address: null },
    });
    wrapper.unmount();
  });

  it("shows each 422 reason next to its input and links the summary to it", async () => {
    const { wrapper } = await open("/items/item-1/apply", {
      "POST /api/v1/applications": apiError(422, "invalid", "invalid input", {
        "delivery.address.phone": "must be an 11-digit mobile number",
        "materials.0.licence_no": "not a valid licence of the applicant",
      }),
    });
    await wrapper.get("#apply-mode-1").setValue(true);
    await wrapper.get("#apply-material-0-licence_no").setValue(LICENCE_NO);
    await wrapper.get("form").trigger("submit");
    await settle();

    const phone = wrapper.get("#apply-address-phone");
    expect(phone.attributes("aria-invalid")).toBe("true");
    expect(phone.attributes("aria-describedby")).toContain("apply-address-phone-error");
    expect(wrapper.get("#apply-address-phone-error").text()).toBe("must be an 11-digit mobile number");
    const licenceSelect = wrapper.get("#apply-material-0-licence_no");
    expect(licenceSelect.attributes("aria-invalid")).toBe("true");
    expect(wrapper.get("#apply-material-0-licence_no-error").text()).toBe("not a valid licence of the applicant");

    const summary = wrapper.get(".error-panel [role=alert]");
    expect(summary.text()).toContain("请检查填写的内容");
    const links = wrapper.findAll(".error-panel__fields a").map((a) => a.attributes("href"));
    expect(links).toEqual(["#apply-address-phone", "#apply-material-0-licence_no"]);
    expect(wrapper.get(".error-panel__fields").text()).toContain("手机号码：must be an 11-digit mobile number");
    expect(wrapper.get(".error-panel__fields").text()).toContain("申请材料第 1 项的电子证照：not a valid licence of the applicant");
    wrapper.unmount();
  });

  it("sends the same Idempotency-Key again after no answer, and a new one after a refusal", async () => {
    const answers: Answer[] = [apiError(503, "unavailable"), apiError(422, "invalid", "invalid", { form: "must be an object" })];
    const { wrapper, requests } = await open("/items/item-1/apply", {
      "POST /api/v1/applications": () => answers.shift() ?? { status: 201, body: { application_id: "a-1", state: "submitted", due_date: "2026-12-16" } },
    });
    await wrapper.get("form").trigger("submit");
    await settle();
    expect(wrapper.get(".error-panel").attributes("data-kind")).toBe("503");
    expect(document.activeElement).toBe(wrapper.get(".form__errors").element);
    await wrapper.get(".error-panel [data-action=retry]").trigger("click");
    await settle();
    await wrapper.get("form").trigger("submit");
    await settle();
    const keys = requests.filter((r) => r.method === "POST").map((r) => r.headers.get("Idempotency-Key"));
    expect(keys).toHaveLength(3);
    expect(keys[1]).toBe(keys[0]);
    expect(keys[2]).not.toBe(keys[1]);
    wrapper.unmount();
  });

  it("sends a new Idempotency-Key when the form changed after no answer", async () => {
    const answers: Answer[] = [apiError(503, "unavailable")];
    const { wrapper, requests } = await open("/items/item-1/apply", {
      "POST /api/v1/applications": () => answers.shift() ?? { status: 201, body: { application_id: "a-1", state: "submitted", due_date: "2026-12-16" } },
    });
    await wrapper.get("form").trigger("submit");
    await settle();
    await wrapper.get("#apply-remarks").setValue("加急");
    await wrapper.get("form").trigger("submit");
    await settle();
    const [first, second] = requests.filter((r) => r.method === "POST");
    expect(second?.body).toMatchObject({ form: { remarks: "加急" } });
    expect(second?.headers.get("Idempotency-Key")).not.toBe(first?.headers.get("Idempotency-Key"));
    wrapper.unmount();
  });

  it("shows a refusal (403: no mandate for the item) through the error presenter", async () => {
    const { wrapper } = await open("/items/item-1/apply", {
      "POST /api/v1/applications": apiError(403, "forbidden", "no mandate in force"),
    });
    await wrapper.get("#apply-applicant-2").setValue(true);
    await wrapper.get("form").trigger("submit");
    await settle();
    expect(wrapper.get(".error-panel").attributes("data-kind")).toBe("403");
    expect(wrapper.get(".error-panel").text()).toContain("没有办理权限");
    wrapper.unmount();
  });

  it("still lets me apply for myself when my mandates and licences cannot be read", async () => {
    const { wrapper } = await open("/items/item-1/apply", {
      "GET /api/v1/me/mandates": apiError(503, "unavailable"),
      "GET /api/v1/licences": apiError(503, "unavailable"),
    });
    expect(wrapper.text()).toContain("暂时无法读取您的代办授权");
    expect(wrapper.text()).toContain("暂时无法读取您的电子证照");
    expect(wrapper.findAll("input[name=applicant]")).toHaveLength(2);
    wrapper.unmount();
  });
});

describe("my cases", () => {
  it("lists my cases with their state, due date and signal, each linked to its page", async () => {
    const { wrapper, requests } = await open("/my/cases");
    expect(requests.find((r) => r.url.pathname === "/api/v1/applications")?.url.searchParams.get("page")).toBe("1");
    expect(wrapper.get("[role=status]").text()).toBe("共 1 件，第 1–1 件");
    const card = wrapper.get(".case-card");
    expect(card.get("a").attributes("href")).toBe("/my/cases/a-1");
    expect(card.text()).toContain("已受理");
    expect(card.text()).toContain("正常");
    wrapper.unmount();
  });

  it("shows a 401 with a way to sign in again", async () => {
    const signIn = vi.fn();
    const { wrapper } = await open("/my/cases", { "GET /api/v1/applications": apiError(401, "unauthorized") }, fakeAuth().auth, "zh-CN", {
      [signInKey as symbol]: signIn,
    });
    expect(wrapper.get(".error-panel").attributes("data-kind")).toBe("401");
    await wrapper.get("[data-action=sign-in]").trigger("click");
    expect(signIn).toHaveBeenCalled();
    wrapper.unmount();
  });
});

describe("a case", () => {
  it("shows its steps with due dates, its history and its EMS tracking", async () => {
    const { wrapper, requests } = await open("/my/cases/a-1");
    expect(wrapper.get("h1").text()).toBe("食品生产许可证核发（保健食品）");
    expect(requests.find((r) => r.url.pathname === "/api/v1/shipments")?.url.searchParams.get("application_id")).toBe("a-1");
    const rows = wrapper.findAll("#case-steps ~ .table-scroll tbody tr").map((r) => r.text());
    expect(rows[0]).toContain("受理");
    expect(rows[1]).toContain("办理中");
    expect(rows[1]).toContain("临近期限");
    expect(wrapper.get(".shipments").text()).toContain("EA123456789CN");
    expect(wrapper.get(".shipments").text()).toContain("运输中");
    expect(wrapper.get(".timeline").text()).toContain("材料齐全");
    expect(wrapper.find(".review").exists()).toBe(false);
    wrapper.unmount();
  });

  it("shows a shipment's EMS tracking when asked", async () => {
    const { wrapper, requests } = await open("/my/cases/a-1", {
      "GET /api/v1/shipments/EA123456789CN": {
        body: {
          ...shipment,
          tracking: [
            { status: "picked_up", occurred_at: "2026-12-01T06:00:00Z", location: "南京市玄武区", description: "已揽收" },
            { status: "in_transit", occurred_at: "2026-12-01T10:00:00Z", location: "", description: "" },
          ],
        },
      },
    });
    const button = wrapper.get("[data-action=tracking]");
    expect(button.attributes("aria-expanded")).toBe("false");
    expect(requests.some((r) => r.url.pathname === "/api/v1/shipments/EA123456789CN")).toBe(false);
    await button.trigger("click");
    await settle();
    expect(button.attributes("aria-expanded")).toBe("true");
    const panel = wrapper.get(`#${button.attributes("aria-controls")}`);
    expect(panel.findAll("li").map((li) => li.text().replace(/\s+/g, " "))).toEqual([
      "2026年12月1日 14:00已取件 · 南京市玄武区已揽收",
      "2026年12月1日 18:00运输中",
    ]);
    wrapper.unmount();
  });

  it("shows a failed shipments read through the error presenter, with try again", async () => {
    let calls = 0;
    const { wrapper } = await open("/my/cases/a-1", {
      "GET /api/v1/shipments": () => (++calls === 1 ? apiError(504, "timeout") : { body: { items: [shipment] } }),
    });
    const panel = wrapper.get("#case-shipments ~ .error-panel");
    expect(panel.attributes("data-kind")).toBe("504");
    await panel.get("[data-action=retry]").trigger("click");
    await settle();
    expect(wrapper.get(".shipments").text()).toContain("EA123456789CN");
    wrapper.unmount();
  });

  it("withdraws after asking in place, and shows the answered case", async () => {
    const { wrapper, requests } = await open("/my/cases/a-1", {
      "POST /api/v1/applications/a-1/withdraw": { body: application({ state: "withdrawn", available_actions: [], signal: null }) },
    });
    await wrapper.get("[data-action=withdraw]").trigger("click");
    expect(document.activeElement).toBe(wrapper.get("[data-action=withdraw-confirm]").element);
    expect(wrapper.text()).toContain("确定撤回这件申请吗");
    await wrapper.get("[data-action=withdraw-confirm]").trigger("click");
    await settle();
    expect(requests.filter((r) => r.method === "POST").map((r) => r.url.pathname)).toEqual(["/api/v1/applications/a-1/withdraw"]);
    expect(wrapper.get(".case__header .state").text()).toBe("已撤回");
    expect(wrapper.text()).toContain("申请已撤回。");
    expect(wrapper.find("[data-action=withdraw]").exists()).toBe(false);
    expect(document.activeElement).toBe(wrapper.get("h1").element);
    wrapper.unmount();
  });

  it("shows a 409 on withdrawing (the case moved on) with a way to reload", async () => {
    const { wrapper } = await open("/my/cases/a-1", {
      "POST /api/v1/applications/a-1/withdraw": apiError(409, "conflict", "already decided"),
    });
    await wrapper.get("[data-action=withdraw]").trigger("click");
    await wrapper.get("[data-action=withdraw-confirm]").trigger("click");
    await settle();
    expect(wrapper.get("#withdraw-error .error-panel").attributes("data-kind")).toBe("409");
    expect(wrapper.get("#withdraw-error [data-action=retry]").text()).toBe("刷新");
    wrapper.unmount();
  });

  it("reads the case again when an action meets a 409, instead of repeating it", async () => {
    let reads = 0;
    const { wrapper, requests } = await open("/my/cases/a-1", {
      "GET /api/v1/applications/a-1": () => ({ body: ++reads === 1 ? application() : application({ state: "approved", available_actions: [] }) }),
      "POST /api/v1/applications/a-1/withdraw": apiError(409, "conflict", "already decided"),
    });
    await wrapper.get("[data-action=withdraw]").trigger("click");
    await wrapper.get("[data-action=withdraw-confirm]").trigger("click");
    await settle();
    await wrapper.get("#withdraw-error [data-action=retry]").trigger("click");
    await settle();
    expect(requests.filter((r) => r.method === "POST")).toHaveLength(1);
    expect(wrapper.get(".case__header .state").text()).toBe("已批准");
    expect(wrapper.find("[data-action=withdraw]").exists()).toBe(false);
    wrapper.unmount();
  });

  it("supplies the materials the window asked for", async () => {
    const asked = application({
      state: "supplement_requested",
      available_actions: [{ action: "supplement", step: "accept" }, { action: "withdraw", step: null }],
      missing_materials: ["法定代表人身份证明", "场地平面图"],
      supplement_due: "2026-12-31",
      clock: { running: false, stopped_on: "2026-12-02", stopped_for: "supplement" },
    });
    const { wrapper, requests } = await open("/my/cases/a-1", {
      "GET /api/v1/applications/a-1": { body: asked },
      "POST /api/v1/applications/a-1/supplement": { body: application() },
    });
    expect(wrapper.text()).toContain("计时已暂停：等待补正材料");
    expect(wrapper.findAll(".material-fields legend").map((l) => l.text())).toEqual(["法定代表人身份证明必需", "场地平面图必需"]);
    await wrapper.get("#supplement-material-1-note").setValue("已盖章");
    await wrapper.get("#supplement-title ~ form").trigger("submit");
    await settle();
    const post = requests.find((r) => r.method === "POST");
    expect(post?.url.pathname).toBe("/api/v1/applications/a-1/supplement");
    expect(post?.body).toEqual({
      materials: [{ name: "法定代表人身份证明" }, { name: "场地平面图", note: "已盖章" }],
    });
    expect(wrapper.text()).toContain("补正材料已提交。");
    wrapper.unmount();
  });

  it("chooses what happens after a failed EMS pickup, with a new address", async () => {
    const failed = application({
      available_actions: [{ action: "reship_materials", step: null }, { action: "bring_to_window", step: null }],
      clock: { running: false, stopped_on: "2026-12-02", stopped_for: "delivery" },
      shipment_failure: {
        direction: "materials",
        reason: "refused",
        tracking_no: "EA123456789CN",
        description: "收件人拒收",
        failed_at: "2026-12-02T05:00:00Z",
        attempt: 1,
        choice: null,
      },
    });
    const { wrapper, requests } = await open("/my/cases/a-1", {
      "GET /api/v1/applications/a-1": { body: failed },
      "POST /api/v1/applications/a-1/redelivery": apiError(422, "invalid", "invalid", { "address.postcode": "must be 6 digits" }),
    });
    expect(wrapper.text()).toContain("第 1 次寄递未成功：拒收");
    expect(wrapper.findAll("input[name=redelivery]").map((i) => i.attributes("value"))).toEqual(["reship_materials", "bring_to_window"]);
    await wrapper.get("#redelivery-new-address").setValue(true);
    const address = { name: "李四", phone: "13900139000", province: "江苏省", city: "南京市", district: "秦淮区", street: "中山南路1号", postcode: "2100" };
    for (const [key, value] of Object.entries(address)) await wrapper.get(`#redelivery-address-${key}`).setValue(value);
    await wrapper.get("#redelivery-title ~ form").trigger("submit");
    await settle();
    expect(requests.find((r) => r.method === "POST")?.body).toEqual({ choice: "reship_materials", address });
    expect(wrapper.get("#redelivery-address-postcode").attributes("aria-invalid")).toBe("true");
    expect(wrapper.get("#redelivery-address-postcode-error").text()).toBe("must be 6 digits");
    expect(wrapper.get("#redelivery-error .error-panel__fields a").attributes("href")).toBe("#redelivery-address-postcode");
    wrapper.unmount();
  });

  it("sends me to the cashier to pay, and refreshes the payment after", async () => {
    const due = application({
      available_actions: [{ action: "pay", step: "payment" }],
      clock: { running: false, stopped_on: "2026-12-05", stopped_for: "payment" },
      payment: {
        state: "pending",
        amount_fen: 1250,
        fees: [{ name: "工本费", amount_fen: 1250, standard: "", legal_basis: "", waivable: true }],
        waiver: null,
        order_id: "o-1",
        pay_url: "https://pay.example.test/cashier/o-1",
        due_on: "2026-12-12",
        paid_at: null,
        refunded_at: null,
      },
    });
    let reads = 0;
    const { wrapper } = await open("/my/cases/a-1", {
      "GET /api/v1/applications/a-1": () => {
        reads++;
        return {
          body:
            reads === 1
              ? due
              : application({ payment: { ...due.payment!, state: "paid", paid_at: "2026-12-05T03:00:00Z" }, available_actions: [] }),
        };
      },
    });
    const pay = wrapper.get("[data-action=pay]");
    expect(pay.attributes("href")).toBe("https://pay.example.test/cashier/o-1");
    expect(pay.attributes("target")).toBe("_blank");
    expect(pay.attributes("rel")).toContain("noopener");
    expect(wrapper.text()).toContain("12.50 元");
    await wrapper.get("[data-action=refresh-payment]").trigger("click");
    await settle();
    expect(wrapper.text()).toContain("已缴费");
    expect(wrapper.find("[data-action=pay]").exists()).toBe(false);
    wrapper.unmount();
  });

  it("shows a case that is not mine as not found", async () => {
    const { wrapper } = await open("/my/cases/a-9", {});
    expect(wrapper.get(".error-panel").attributes("data-kind")).toBe("404");
    expect(wrapper.get("h1").text()).toBe("未找到相关内容");
    wrapper.unmount();
  });
});

describe("review of an ended case", () => {
  const ended = application({ state: "completed", available_actions: [], signal: null, licence_no: LICENCE_NO });

  it("asks for the overall grade first, then sends grades, sub-grades and comment", async () => {
    const { wrapper, requests } = await open("/my/cases/a-1", {
      "GET /api/v1/applications/a-1": { body: ended },
      "POST /api/v1/applications/a-1/review": { status: 201, body: { review_id: "r-1" } },
    });
    const review = wrapper.get(".review");
    expect(review.findAll("legend").map((l) => l.text())).toEqual([
      "总体评价 *",
      "分项评价（选填）",
      "整体感受",
      "办事效率",
      "办事指南准确度",
      "便利程度",
      "网站易用性",
    ]);
    expectLabelled(review.element);
    await review.get("form").trigger("submit");
    await settle();
    expect(review.get("#review-grade-error").text()).toBe("请选择总体评价。");
    expect(document.activeElement?.id).toBe("review-grade-5");
    expect(requests.some((r) => r.method === "POST")).toBe(false);

    await review.get("#review-grade-4").setValue(true);
    await review.get("#review-efficiency-5").setValue(true);
    await review.get("#review-usability-3").setValue(true);
    await review.get("#review-comment").setValue("窗口服务热情");
    await review.get("form").trigger("submit");
    await settle();
    expect(requests.find((r) => r.method === "POST")?.body).toEqual({
      grade: 4,
      channel: "web",
      comment: "窗口服务热情",
      indicators: { efficiency: 5, usability: 3 },
    });
    expect(wrapper.get(".review [role=status]").text()).toBe("感谢您的评价。");
    expect(document.activeElement).toBe(wrapper.get(".review [role=status]").element);
    wrapper.unmount();
  });

  it("shows that the case was rated already (409)", async () => {
    const { wrapper } = await open("/my/cases/a-1", {
      "GET /api/v1/applications/a-1": { body: ended },
      "POST /api/v1/applications/a-1/review": apiError(409, "conflict", "already reviewed"),
    });
    await wrapper.get("#review-grade-5").setValue(true);
    await wrapper.get(".review form").trigger("submit");
    await settle();
    expect(wrapper.get(".review .error-panel").attributes("data-kind")).toBe("409");
    expect(wrapper.get(".review .error-panel h3").text()).toBe("状态已发生变化");
    wrapper.unmount();
  });

  it("links the case's licence", async () => {
    const { wrapper } = await open("/my/cases/a-1", { "GET /api/v1/applications/a-1": { body: ended } });
    expect(wrapper.get(`a[href="/my/licences/${LICENCE_NO}"]`).text()).toBe("查看证照");
    wrapper.unmount();
  });
});

describe("licences", () => {
  it("lists my licences, valid and revoked", async () => {
    const { wrapper } = await open("/my/licences");
    const rows = wrapper.findAll("tbody tr");
    expect(rows).toHaveLength(2);
    expect(rows[0]?.text()).toContain("有效");
    expect(rows[1]?.text()).toContain("已注销");
    expect(rows[0]?.get("a").attributes("href")).toBe(`/my/licences/${LICENCE_NO}`);
    wrapper.unmount();
  });

  it("shows a licence with its QR code and the verify links", async () => {
    const { wrapper } = await open(`/my/licences/${LICENCE_NO}`);
    const qr = wrapper.get("svg.qr-code");
    expect(qr.attributes("role")).toBe("img");
    expect(qr.attributes("aria-label")).toBe(`证照二维码，扫码可核验证照：${LICENCE_NO}`);
    expect(qr.get("path").attributes("d")).toMatch(/^M\d+ \d+h1v1h-1z/);
    expect(wrapper.get(`a[href="/verify/${LICENCE_NO}"]`).text()).toBe("查看核验结果");
    expect(wrapper.find(`a[href="${licenceView.qr_payload}"]`).exists()).toBe(true);
    expect(wrapper.text()).toContain("EdDSA");
    wrapper.unmount();
  });

  it("verifies a licence in public and names each check", async () => {
    const { wrapper } = await open(`/verify/${LICENCE_NO}`, {}, fakeAuth("signed_out").auth, "en");
    expect(wrapper.get(".verdict").text()).toBe("Not verified.");
    expect(wrapper.get(".check--failed").text()).toContain("Revocation");
    expect(wrapper.get(".check--failed").text()).toContain("Revoked");
    expect(wrapper.text()).toContain("申请人申请注销");
    wrapper.unmount();
  });

  it("asks for a number, then verifies it", async () => {
    const { wrapper, router, requests } = await open("/verify", {}, fakeAuth("signed_out").auth);
    expect(requests.some((r) => r.url.pathname.endsWith("/verify"))).toBe(false);
    await wrapper.get("#verify-number").setValue(` ${LICENCE_NO} `);
    await wrapper.get("form.verify__form").trigger("submit");
    await vi.waitFor(() => expect(router.currentRoute.value.path).toBe(`/verify/${LICENCE_NO}`), { timeout: 5000 });
    await settle();
    expect(requests.some((r) => r.url.pathname === `${LICENCE_PATH}/verify`)).toBe(true);
    expect(wrapper.get(".verdict").text()).toBe("核验未通过。");
    wrapper.unmount();
  });

  it("counts down a 429 of the public verification", async () => {
    const { wrapper } = await open(`/verify/${LICENCE_NO}`, {
      [`GET ${LICENCE_PATH}/verify`]: { ...apiError(429, "rate_limited"), headers: { "Retry-After": "7" } },
    });
    expect(wrapper.get(".error-panel").attributes("data-kind")).toBe("429");
    expect(wrapper.text()).toContain("请在 7 秒后重试");
    expect(wrapper.get("[data-action=retry]").attributes("disabled")).toBeDefined();
    wrapper.unmount();
  });
});
