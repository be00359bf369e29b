// 好差评 at the window and for staff: recording a window visit (一次一评), the
// public page that rates it with its token, the department's reviews with
// reply and appeal, and the operator's decision of appeals.

import { beforeEach, describe, expect, it } from "vitest";
import { createMemoryHistory } from "vue-router";

import type { Appeal, ReviewView } from "@/api/ratings";
import type { Auth, Viewer } from "@/auth";
import { createPortalI18n, LOCALES } from "@/i18n";
import { visitRatingMessages } from "@/i18n/work/visitRating";
import { createPortalRouter } from "@/router";
import { fakeAuth } from "@/testing/citizen";
import { departmentsByRegion, itemSummary } from "@/testing/fixtures";
import { clerk, deptAdmin, operator, signedInAs } from "@/testing/staff";
import { apiError, expectLabelled, fakeGateway, openApp, resetPage, settle, type GatewayTable } from "@/testing/support";

const approver: Viewer = { kind: "staff", roles: ["approver"], department: "js-amr" };
const windowClerk: Viewer = { kind: "staff", roles: ["window_clerk"], department: "js-amr" };

function review(overrides: Partial<ReviewView> = {}): ReviewView {
  return {
    review_id: "rv-1",
    application_id: null,
    visit_id: "v-1",
    store_id: "store-js-amr",
    department_code: "js-amr",
    handled_by: "js-amr",
    region_code: "320000",
    item_id: "item-1",
    item_name: "食品生产许可证核发（保健食品）",
    reviewer: "匿名",
    real_name: false,
    grade: 1,
    comment: "窗口指引不清楚，跑了两趟",
    channel: "window",
    indicators: { attitude: 2 },
    submitted_at: "2026-12-01T02:00:00Z",
    excluded: false,
    reply: null,
    replied_at: null,
    replied_by: null,
    appeal_state: null,
    ...overrides,
  };
}

function appeal(overrides: Partial<Appeal> = {}): Appeal {
  return {
    appeal_id: "ap-1",
    review_id: "rv-1",
    department_code: "js-amr",
    reason: "评价内容与所办事项无关",
    state: "pending",
    filed_by: "admin-1",
    filed_at: "2026-12-02T02:00:00Z",
    decided_by: null,
    decided_at: null,
    decision_comment: null,
    review: review({ appeal_state: "pending" }),
    ...overrides,
  };
}

const visitRecorded = { visit_id: "v-1", token: "tok-1", expires_at: "2026-12-08T02:00:00Z" };

function gateway(overrides: GatewayTable = {}) {
  return fakeGateway({
    "GET /api/v1/items": { body: { items: [itemSummary, { ...itemSummary, item_id: "item-2", name: "工业产品生产许可证核发" }], page: 1, page_size: 100, total: 2 } },
    "GET /api/v1/departments": { body: { items: departmentsByRegion["320000"] } },
    "GET /api/v1/reviews": { body: { items: [review(), review({ review_id: "rv-2", grade: 5, comment: "", reply: "感谢您的肯定", replied_at: "2026-12-02T02:00:00Z", appeal_state: "rejected", channel: "web", application_id: "a-1", visit_id: null })], page: 1, page_size: 20, total: 2 } },
    "GET /api/v1/appeals": { body: { items: [appeal()], page: 1, page_size: 20, total: 1 } },
    ...overrides,
  });
}

async function open(path: string, overrides: GatewayTable = {}, auth: Auth | undefined = signedInAs(clerk), locale: "zh-CN" | "en" = "zh-CN") {
  return openApp(path, gateway(overrides), { auth, locale });
}

beforeEach(resetPage);

describe("guards", () => {
  it("lets window clerks record visits, and nobody else", async () => {
    for (const [viewer, page] of [
      [clerk, "staff-visits"],
      [windowClerk, "staff-visits"],
      [approver, "forbidden"],
      [deptAdmin, "forbidden"],
      [operator, "forbidden"],
    ] as const) {
      const router = createPortalRouter(createMemoryHistory(), signedInAs(viewer));
      await router.push("/staff/visits");
      expect(router.currentRoute.value.name, viewer.roles.join()).toBe(page);
    }
  });

  it("opens reviews to clerks, department admins and operators, appeals to admins and operators", async () => {
    for (const [viewer, reviews, appeals] of [
      [windowClerk, "staff-reviews", "forbidden"],
      [approver, "forbidden", "forbidden"],
      [deptAdmin, "staff-reviews", "staff-appeals"],
      [operator, "staff-reviews", "staff-appeals"],
    ] as const) {
      const router = createPortalRouter(createMemoryHistory(), signedInAs(viewer));
      await router.push("/staff/reviews");
      expect(router.currentRoute.value.name, viewer.kind + viewer.roles.join()).toBe(reviews);
      await router.push("/staff/appeals");
      expect(router.currentRoute.value.name, viewer.kind + viewer.roles.join()).toBe(appeals);
    }
  });

  it("lets anyone rate a visit without signing in", async () => {
    const { auth } = fakeAuth("signed_out");
    const router = createPortalRouter(createMemoryHistory(), auth);
    await router.push("/rate?token=tok-1");
    expect(router.currentRoute.value.name).toBe("rate-visit");
    expect(auth.signIn).not.toHaveBeenCalled();
  });
});

describe("recording a window visit (一次一评)", () => {
  it("offers the department's items and asks for an item before sending", async () => {
    const { wrapper, requests } = await open("/staff/visits");
    expect(wrapper.get("h1").text()).toBe("一次一评");
    const search = requests.find((r) => r.url.pathname === "/api/v1/items")!.url.searchParams;
    expect(search.get("department")).toBe("js-amr");
    expect(wrapper.findAll("#visit-item option").map((o) => o.text())).toEqual(["请选择事项", "食品生产许可证核发（保健食品）", "工业产品生产许可证核发"]);
    expectLabelled(wrapper.get(".page").element);

    await wrapper.get("#visit-phone").setValue("12345");
    await wrapper.get("[aria-labelledby=visit-form-title] form.form").trigger("submit");
    await settle();
    expect(requests.some((r) => r.method === "POST")).toBe(false);
    expect(wrapper.get("#visit-item-error").text()).toBe("请选择办理的事项。");
    expect(wrapper.get("#visit-item").attributes("aria-invalid")).toBe("true");
    expect(wrapper.get("#visit-phone-error").text()).toBe("请填写 11 位中国大陆手机号码。");
    expect(document.activeElement?.id).toBe("visit-item");
    wrapper.unmount();
  });

  it("narrows the items by a keyword", async () => {
    const { wrapper, requests } = await open("/staff/visits");
    await wrapper.get("#visit-keyword").setValue("食品");
    await wrapper.get("[data-action=find]").trigger("submit");
    await settle();
    const search = requests.filter((r) => r.url.pathname === "/api/v1/items").at(-1)!.url.searchParams;
    expect(search.get("q")).toBe("食品");
    expect(search.get("department")).toBe("js-amr");
    wrapper.unmount();
  });

  it("sends the item and phone, then shows the token, its QR code, the link and that the SMS went", async () => {
    const { wrapper, requests } = await open("/staff/visits", { "POST /api/v1/visits": { status: 201, body: visitRecorded } });
    await wrapper.get("#visit-item").setValue("item-1");
    await wrapper.get("#visit-phone").setValue("138 0000 0001");
    await wrapper.get("[aria-labelledby=visit-form-title] form.form").trigger("submit");
    await settle();
    expect(requests.find((r) => r.method === "POST")?.body).toEqual({ item_id: "item-1", phone: "13800000001" });

    const result = wrapper.get("[data-visit]");
    expect(document.activeElement).toBe(wrapper.get("#visit-result-title").element);
    expect(wrapper.get(".page > [role=status]").text()).toBe("评价码已生成。");
    expect(result.get("[data-token]").text()).toBe("tok-1");
    const link = result.get("[data-link]");
    expect(link.text()).toBe(`${window.location.origin}/rate?token=tok-1&channel=window`);
    expect(link.attributes("href")).toBe(link.text());
    const qr = result.get("svg.qr-code");
    expect(qr.attributes("role")).toBe("img");
    expect(qr.attributes("aria-label")).toContain("/rate?token=tok-1");
    expect(result.get("[data-sms]").text()).toBe("评价短信已发送至 138****0001。");
    expect(result.get("[data-action=rate-here]").attributes("href")).toBe("/rate?token=tok-1&channel=window");
    expect(result.text()).toContain("食品生产许可证核发（保健食品）");

    await result.get("[data-action=next]").trigger("click");
    await settle();
    expect(wrapper.find("[data-visit]").exists()).toBe(false);
    expect(document.activeElement?.id).toBe("visit-item");
    expect((wrapper.get("#visit-phone").element as HTMLInputElement).value).toBe("");
    wrapper.unmount();
  });

  it("leaves the phone out when none is given, and says no SMS went", async () => {
    const { wrapper, requests } = await open("/staff/visits", { "POST /api/v1/visits": { status: 201, body: visitRecorded } });
    await wrapper.get("#visit-item").setValue("item-2");
    await wrapper.get("[aria-labelledby=visit-form-title] form.form").trigger("submit");
    await settle();
    expect(requests.find((r) => r.method === "POST")?.body).toEqual({ item_id: "item-2" });
    expect(wrapper.get("[data-sms]").text()).toBe("未填写手机号，没有发送评价短信。");
    wrapper.unmount();
  });

  it("shows a 422's fields beside them and in the summary", async () => {
    const { wrapper } = await open("/staff/visits", {
      "POST /api/v1/visits": apiError(422, "invalid", "invalid", { phone: "String does not match expected pattern." }),
    });
    await wrapper.get("#visit-item").setValue("item-1");
    await wrapper.get("#visit-phone").setValue("13800000001");
    await wrapper.get("[aria-labelledby=visit-form-title] form.form").trigger("submit");
    await settle();
    const panel = wrapper.get("#record-error");
    expect(document.activeElement).toBe(panel.element);
    expect(panel.get("[data-field=phone]").text()).toBe("群众手机号（选填）：String does not match expected pattern.");
    expect(panel.get("[data-field=phone] a").attributes("href")).toBe("#visit-phone");
    expect(wrapper.get("#visit-phone-error").text()).toBe("String does not match expected pattern.");
    expect(wrapper.get("#visit-phone").attributes("aria-invalid")).toBe("true");
    wrapper.unmount();
  });

  it.each([
    [404, "not_found", "未找到相关内容"],
    [403, "forbidden", "没有办理权限"],
  ])("shows the API's %s through the error panel", async (status, code, title) => {
    const { wrapper } = await open("/staff/visits", { "POST /api/v1/visits": apiError(status, code) });
    await wrapper.get("#visit-item").setValue("item-1");
    await wrapper.get("[aria-labelledby=visit-form-title] form.form").trigger("submit");
    await settle();
    const panel = wrapper.get("#record-error .error-panel");
    expect(panel.attributes("data-kind")).toBe(String(status));
    expect(panel.text()).toContain(title);
    expect(wrapper.find("[data-visit]").exists()).toBe(false);
    wrapper.unmount();
  });
});

describe("rating a window visit (public)", () => {
  it("rates with the SMS link's token: grade, sub-grades and comment, channel sms", async () => {
    const { wrapper, requests } = await open("/rate?token=tok-1", { "POST /api/v1/visits/review": { status: 201, body: { review_id: "rv-9" } } }, undefined);
    expect(wrapper.get("h1").text()).toBe("评价窗口服务");
    expect(wrapper.find("#rate-token").exists()).toBe(false);
    expect(wrapper.text()).toContain("已从链接读取评价码。");
    expect(wrapper.findAll("fieldset legend").map((l) => l.text())).toEqual(["总体评价 *", "分项评价（选填）", "办事效率", "业务能力", "服务态度"]);
    expectLabelled(wrapper.get("form").element);

    await wrapper.get("#rate-grade-5").setValue(true);
    await wrapper.get("#rate-attitude-4").setValue(true);
    await wrapper.get("#rate-comment").setValue(" 窗口人员很耐心 ");
    await wrapper.get("form").trigger("submit");
    await settle();
    const post = requests.find((r) => r.method === "POST")!;
    expect(post.url.pathname).toBe("/api/v1/visits/review");
    expect(post.headers.get("Authorization")).toBeNull();
    expect(post.body).toEqual({ token: "tok-1", grade: 5, channel: "sms", comment: "窗口人员很耐心", indicators: { attitude: 4 } });
    expect(wrapper.get("[data-outcome=done] h2").text()).toBe("感谢您的评价");
    expect(document.activeElement).toBe(wrapper.get("#rate-outcome").element);
    expect(wrapper.find("form").exists()).toBe(false);
    wrapper.unmount();
  });

  it("counts a rating from the window's terminal as the window's, and says a bad one goes to the department", async () => {
    const { wrapper, requests } = await open("/rate?token=tok-1&channel=window", { "POST /api/v1/visits/review": { status: 201, body: { review_id: "rv-9" } } }, undefined);
    await wrapper.get("#rate-grade-1").setValue(true);
    await wrapper.get("form").trigger("submit");
    await settle();
    expect(requests.find((r) => r.method === "POST")?.body).toEqual({ token: "tok-1", grade: 1, channel: "window" });
    expect(wrapper.get("[data-outcome=done]").text()).toContain("部门将在一个工作日内核实并整改");
    wrapper.unmount();
  });

  it("asks for the token when the link has none, and for a grade, before sending", async () => {
    const { wrapper, requests } = await open("/rate", { "POST /api/v1/visits/review": { status: 201, body: { review_id: "rv-9" } } }, undefined);
    await wrapper.get("form").trigger("submit");
    await settle();
    expect(requests.some((r) => r.method === "POST")).toBe(false);
    expect(wrapper.get("#rate-token-error").text()).toBe("请填写评价码。");
    expect(wrapper.get("#rate-grade-error").text()).toBe("请选择总体评价。");
    expect(document.activeElement?.id).toBe("rate-token");

    await wrapper.get("#rate-token").setValue(" tok-2 ");
    await wrapper.get("#rate-grade-4").setValue(true);
    await wrapper.get("form").trigger("submit");
    await settle();
    expect(requests.find((r) => r.method === "POST")?.body).toEqual({ token: "tok-2", grade: 4, channel: "window" });
    wrapper.unmount();
  });

  it("says an unknown token is unknown, shows it at the field and lets another be typed", async () => {
    const { wrapper } = await open("/rate?token=nope", { "POST /api/v1/visits/review": apiError(404, "not_found", "no visit has this token", { token: "not found" }) }, undefined);
    await wrapper.get("#rate-grade-3").setValue(true);
    await wrapper.get("form").trigger("submit");
    await settle();
    const box = wrapper.get("[data-error]");
    expect(document.activeElement).toBe(box.element);
    expect(box.get("[data-kind=unknown-token]").text()).toContain("评价码无效");
    expect(box.text()).toContain("请核对后重新输入");
    expect(wrapper.get("#rate-token-error").text()).toBe("评价码无效");
    expect((wrapper.get("#rate-token").element as HTMLInputElement).value).toBe("nope");
    await box.get("[data-action=other-token]").trigger("click");
    await settle();
    expect(document.activeElement?.id).toBe("rate-token");
    expect(wrapper.find("[data-error]").exists()).toBe(false);
    wrapper.unmount();
  });

  it.each([
    ["token_used", "used", "本次办事已经评价过", "每次办事只能评价一次"],
    ["token_expired", "expired", "评价码已过期", "已超过有效期"],
    ["conflict", "closed", "无法评价", "已经使用过或已过期"],
  ])("answers a 409 %s in words, with a way on", async (code, outcome, title, body) => {
    const { wrapper } = await open("/rate?token=tok-1", { "POST /api/v1/visits/review": apiError(409, code) }, undefined);
    await wrapper.get("#rate-grade-5").setValue(true);
    await wrapper.get("form").trigger("submit");
    await settle();
    const panel = wrapper.get(`[data-outcome=${outcome}]`);
    expect(panel.get("h2").text()).toBe(title);
    expect(panel.text()).toContain(body);
    expect(document.activeElement).toBe(panel.get("h2").element);
    expect(panel.get("[data-action=home]").attributes("href")).toBe("/");
    expect(wrapper.find("form").exists()).toBe(false);
    await panel.get("[data-action=other-token]").trigger("click");
    await settle();
    expect(document.activeElement?.id).toBe("rate-token");
    wrapper.unmount();
  });

  it("shows a 422's fields under this form's names, beside each field", async () => {
    const { wrapper } = await open(
      "/rate?token=tok-1",
      { "POST /api/v1/visits/review": apiError(422, "invalid", "invalid", { "indicators.attitude": "must be 1..5", comment: "too long" }) },
      undefined,
    );
    await wrapper.get("#rate-grade-5").setValue(true);
    await wrapper.get("form").trigger("submit");
    await settle();
    const box = wrapper.get("[data-error]");
    expect(box.get("[data-field='indicators.attitude']").text()).toBe("服务态度：must be 1..5");
    expect(box.get("[data-field='indicators.attitude'] a").attributes("href")).toBe("#rate-attitude-5");
    expect(box.get("[data-field=comment]").text()).toBe("评价内容：too long");
    expect(wrapper.get("#rate-attitude-error").text()).toBe("must be 1..5");
    expect(wrapper.get("#rate-comment").attributes("aria-invalid")).toBe("true");
    wrapper.unmount();
  });

  it("speaks English when asked", async () => {
    const { wrapper } = await open("/rate?token=tok-1", {}, undefined, "en");
    expect(wrapper.get("h1").text()).toBe("Rate your visit to the window");
    expect(document.title).toBe("Rate your visit to the window - tongban");
    expect(wrapper.get("#rate-grade-5").element.closest("label")!.textContent).toContain("Very satisfied");
    wrapper.unmount();
  });

  it("has the same message keys in both languages, each one compiling", async () => {
    const keys = (messages: object, prefix = ""): string[] =>
      Object.entries(messages).flatMap(([key, value]) => (typeof value === "object" ? keys(value, `${prefix}${key}.`) : [`${prefix}${key}`]));
    const own = keys(visitRatingMessages["zh-CN"]);
    expect(keys(visitRatingMessages.en).sort()).toEqual([...own].sort());
    for (const locale of LOCALES) {
      const i18n = (await createPortalI18n(locale)).global;
      i18n.mergeLocaleMessage(locale, visitRatingMessages[locale]);
      for (const key of own) expect(i18n.t(key), key).not.toMatch(/^visitRating\.|[{}]/);
    }
  });
});

describe("reviews for staff", () => {
  it("lists with the URL's filter, each review with grade, text, reply and appeal", async () => {
    const { wrapper, requests } = await open("/staff/reviews?appealed=false");
    const query = requests.find((r) => r.url.pathname === "/api/v1/reviews")!.url.searchParams;
    expect(Object.fromEntries(query)).toEqual({ appealed: "false", page: "1", page_size: "20" });
    expect((wrapper.get("#reviews-appealed").element as HTMLSelectElement).value).toBe("false");
    expect(wrapper.find("#reviews-department").exists()).toBe(false);
    const [bad, good] = wrapper.findAll("[data-review]");
    expect(bad!.get("h3").text()).toBe("食品生产许可证核发（保健食品）");
    expect(bad!.text()).toContain("1 星（非常不满意）");
    expect(bad!.text()).toContain("窗口指引不清楚，跑了两趟");
    expect(bad!.text()).toContain("服务态度：2 星");
    expect(bad!.text()).toContain("窗口服务（一次一评）");
    expect(bad!.find("[data-action=reply]").exists()).toBe(true);
    // A clerk does not appeal.
    expect(bad!.find("[data-action=appeal]").exists()).toBe(false);
    expect(good!.get("[data-reply]").text()).toContain("感谢您的肯定");
    expect(good!.get("[data-appeal]").text()).toBe("申诉不成立");
    expect(good!.find("[data-action=reply]").exists()).toBe(false);
    expect(good!.get("a").attributes("href")).toBe("/staff/cases/a-1");
    expect(wrapper.get("[role=status].results__status").text()).toBe("共 2 条，当前显示第 1–2 条。");
    wrapper.unmount();
  });

  it("replies once: nothing sent empty, then the reply shown, announced, the focus on the review", async () => {
    const { wrapper, requests } = await open("/staff/reviews", {
      "POST /api/v1/reviews/rv-1/reply": { body: review({ reply: "已加强窗口引导", replied_at: "2026-12-02T03:00:00Z", replied_by: "clerk-1" }) },
    });
    await wrapper.get("[data-review=rv-1] [data-action=reply]").trigger("click");
    await settle();
    expect(document.activeElement?.id).toBe("reply-text-rv-1");
    expectLabelled(wrapper.get("#reply-form-rv-1").element);
    await wrapper.get("#reply-form-rv-1").trigger("submit");
    await settle();
    expect(requests.some((r) => r.method === "POST")).toBe(false);
    expect(wrapper.get("#reply-text-rv-1-error").text()).toBe("请填写回复内容。");

    await wrapper.get("#reply-text-rv-1").setValue(" 已加强窗口引导 ");
    await wrapper.get("#reply-form-rv-1").trigger("submit");
    await settle();
    expect(requests.find((r) => r.method === "POST")?.body).toEqual({ reply: "已加强窗口引导" });
    expect(wrapper.get("[data-review=rv-1] [data-reply]").text()).toContain("已加强窗口引导");
    expect(wrapper.find("#reply-form-rv-1").exists()).toBe(false);
    expect(wrapper.get(".page > [role=status]").text()).toBe("回复已发布。");
    expect(document.activeElement?.id).toBe("review-rv-1");
    wrapper.unmount();
  });

  it("shows a reply's 422 beside the field, and reads the list again after a 409", async () => {
    let reads = 0;
    let answer = apiError(422, "invalid", "invalid", { reply: "must not be empty" });
    const { wrapper, requests } = await open("/staff/reviews", {
      "GET /api/v1/reviews": () => ({ body: { items: [review(++reads > 1 ? { reply: "别人已回复" } : {})], page: 1, page_size: 20, total: 1 } }),
      "POST /api/v1/reviews/rv-1/reply": () => answer,
    });
    await wrapper.get("[data-action=reply]").trigger("click");
    await wrapper.get("#reply-text-rv-1").setValue("好的");
    await wrapper.get("#reply-form-rv-1").trigger("submit");
    await settle();
    expect(document.activeElement?.id).toBe("reply-rv-1-error");
    expect(wrapper.get("#reply-rv-1-error [data-field=reply]").text()).toBe("回复内容：must not be empty");
    expect(wrapper.get("#reply-text-rv-1-error").text()).toBe("must not be empty");

    answer = apiError(409, "already_replied");
    await wrapper.get("#reply-form-rv-1").trigger("submit");
    await settle();
    expect(wrapper.get("#reply-rv-1-error .error-panel").attributes("data-kind")).toBe("409");
    await wrapper.get("#reply-rv-1-error [data-action=retry]").trigger("click");
    await settle();
    expect(reads).toBe(2);
    expect(requests.filter((r) => r.method === "POST")).toHaveLength(2);
    expect(wrapper.get("[data-reply]").text()).toContain("别人已回复");
    wrapper.unmount();
  });

  it("lets the department admin appeal, and shows it pending", async () => {
    const { wrapper, requests } = await open(
      "/staff/reviews",
      { "POST /api/v1/reviews/rv-1/appeal": { status: 201, body: { appeal_id: "ap-1" } } },
      signedInAs(deptAdmin),
    );
    // The header's work navigation links there too; this is the page's own link.
    const pageLinks = wrapper.findAll("a[href='/staff/appeals']").filter((a) => !a.classes("site-nav__link"));
    expect(pageLinks.map((a) => a.text())).toEqual(["查看申诉与复核"]);
    // Appealed already: no second appeal.
    expect(wrapper.find("[data-review=rv-2] [data-action=appeal]").exists()).toBe(false);
    await wrapper.get("[data-review=rv-1] [data-action=appeal]").trigger("click");
    await settle();
    expect(document.activeElement?.id).toBe("appeal-text-rv-1");
    await wrapper.get("#appeal-text-rv-1").setValue("评价内容与所办事项无关");
    await wrapper.get("#appeal-form-rv-1").trigger("submit");
    await settle();
    const post = requests.find((r) => r.method === "POST")!;
    expect(post.url.pathname).toBe("/api/v1/reviews/rv-1/appeal");
    expect(post.body).toEqual({ reason: "评价内容与所办事项无关" });
    expect(wrapper.get("[data-review=rv-1] [data-appeal]").text()).toBe("申诉待复核");
    expect(wrapper.find("[data-review=rv-1] [data-action=appeal]").exists()).toBe(false);
    expect(wrapper.get(".page > [role=status]").text()).toBe("申诉已提交，等待平台运营复核。");
    wrapper.unmount();
  });

  it("shows an appeal's 422 and 409 in place", async () => {
    const { wrapper } = await open(
      "/staff/reviews",
      { "POST /api/v1/reviews/rv-1/appeal": apiError(422, "invalid", "invalid", { reason: "must be at most 500 characters" }) },
      signedInAs(deptAdmin),
    );
    await wrapper.get("[data-review=rv-1] [data-action=appeal]").trigger("click");
    await wrapper.get("#appeal-text-rv-1").setValue("理由");
    await wrapper.get("#appeal-form-rv-1").trigger("submit");
    await settle();
    expect(wrapper.get("#appeal-rv-1-error [data-field=reason]").text()).toBe("申诉理由：must be at most 500 characters");
    expect(wrapper.get("#appeal-text-rv-1").attributes("aria-invalid")).toBe("true");
    wrapper.unmount();
  });

  it("lets an operator choose a department, kept in the URL", async () => {
    const { wrapper, router, requests } = await open("/staff/reviews?department=js-ga", {}, signedInAs(operator));
    const reads = requests.filter((r) => r.url.pathname === "/api/v1/reviews");
    expect(reads).toHaveLength(1);
    expect(reads[0]!.url.searchParams.get("department")).toBe("js-ga");
    expect((wrapper.get("#reviews-department").element as HTMLSelectElement).value).toBe("js-ga");
    expect(wrapper.findAll("#reviews-department option").map((o) => o.text())).toEqual(["全部部门", "江苏省市场监督管理局", "江苏省公安厅"]);
    await wrapper.get("#reviews-department").setValue("js-amr");
    await wrapper.get("#reviews-appealed").setValue("true");
    await wrapper.get("form").trigger("submit");
    await settle();
    expect(router.currentRoute.value.query).toEqual({ appealed: "true", department: "js-amr" });
    expect(Object.fromEntries(requests.at(-1)!.url.searchParams)).toEqual({ department: "js-amr", appealed: "true", page: "1", page_size: "20" });
    // An operator may reply, not appeal.
    expect(wrapper.find("[data-action=reply]").exists()).toBe(true);
    expect(wrapper.find("[data-action=appeal]").exists()).toBe(false);
    wrapper.unmount();
  });

  it("shows the API's 403", async () => {
    const { wrapper } = await open("/staff/reviews", { "GET /api/v1/reviews": apiError(403, "forbidden") });
    expect(wrapper.get(".error-panel").attributes("data-kind")).toBe("403");
    wrapper.unmount();
  });

  it("shows the words in English", async () => {
    const { wrapper } = await open("/staff/reviews", {}, signedInAs(clerk), "en");
    expect(wrapper.get("h1").text()).toBe("Reviews");
    expect(wrapper.get("[data-review=rv-1]").text()).toContain("1 of 5 (very dissatisfied)");
    expect(wrapper.get("[data-review=rv-1] [data-action=reply]").attributes("aria-label")).toBe("Reply: 食品生产许可证核发（保健食品）");
    wrapper.unmount();
  });
});

describe("appeals", () => {
  it("shows a department admin their appeals, to read only", async () => {
    const { wrapper, requests } = await open("/staff/appeals?state=pending", {}, signedInAs(deptAdmin));
    expect(requests.find((r) => r.url.pathname === "/api/v1/appeals")!.url.searchParams.get("state")).toBe("pending");
    const entry = wrapper.get("[data-appeal=ap-1]");
    expect(entry.get("[data-state]").text()).toBe("申诉待复核");
    expect(entry.text()).toContain("评价内容与所办事项无关");
    expect(entry.text()).toContain("窗口指引不清楚，跑了两趟");
    expect(entry.find("[data-action=decide]").exists()).toBe(false);
    wrapper.unmount();
  });

  it("lets the operator decide: a choice and reasons first, then the appeal as answered", async () => {
    const { wrapper, requests } = await open(
      "/staff/appeals",
      {
        "POST /api/v1/appeals/ap-1/decision": {
          body: appeal({ state: "upheld", decided_by: "op-1", decided_at: "2026-12-03T02:00:00Z", decision_comment: "经核实，评价与办件无关，予以剔除", review: review({ appeal_state: "upheld", excluded: true }) }),
        },
      },
      signedInAs(operator),
    );
    await wrapper.get("[data-action=decide]").trigger("click");
    await settle();
    expect(document.activeElement?.id).toBe("decide-uphold-ap-1");
    const form = wrapper.get("[data-appeal=ap-1] form");
    expectLabelled(form.element);
    await form.trigger("submit");
    await settle();
    expect(requests.some((r) => r.method === "POST")).toBe(false);
    expect(wrapper.get("#decide-uphold-ap-1-error").text()).toBe("请选择复核结论。");
    expect(wrapper.get("#decide-comment-ap-1-error").text()).toBe("请填写复核意见。");

    await wrapper.get("#decide-uphold-ap-1").setValue(true);
    await wrapper.get("#decide-comment-ap-1").setValue("经核实，评价与办件无关，予以剔除");
    await wrapper.get("[data-appeal=ap-1] form").trigger("submit");
    await settle();
    expect(requests.find((r) => r.method === "POST")?.body).toEqual({ uphold: true, comment: "经核实，评价与办件无关，予以剔除" });
    const entry = wrapper.get("[data-appeal=ap-1]");
    expect(entry.get("[data-state]").text()).toBe("申诉成立");
    expect(entry.get("[data-decision]").text()).toBe("经核实，评价与办件无关，予以剔除");
    expect(entry.find("form").exists()).toBe(false);
    expect(wrapper.get(".page > [role=status]").text()).toBe("复核结论已提交。");
    expect(document.activeElement?.id).toBe("appeal-ap-1");
    wrapper.unmount();
  });

  it("shows the decision's 422 beside its field and reads the list again after a 409", async () => {
    let reads = 0;
    let answer = apiError(422, "invalid", "invalid", { comment: "must not be empty" });
    const { wrapper } = await open(
      "/staff/appeals",
      {
        "GET /api/v1/appeals": () => ({ body: { items: [appeal(++reads > 1 ? { state: "rejected" } : {})], page: 1, page_size: 20, total: 1 } }),
        "POST /api/v1/appeals/ap-1/decision": () => answer,
      },
      signedInAs(operator),
    );
    await wrapper.get("[data-action=decide]").trigger("click");
    await wrapper.get("#decide-reject-ap-1").setValue(true);
    await wrapper.get("#decide-comment-ap-1").setValue("不成立");
    await wrapper.get("[data-appeal=ap-1] form").trigger("submit");
    await settle();
    expect(wrapper.get("#decide-ap-1-error [data-field=comment]").text()).toBe("复核意见：must not be empty");
    expect(wrapper.get("#decide-comment-ap-1-error").text()).toBe("must not be empty");

    answer = apiError(409, "invalid_transition");
    await wrapper.get("[data-appeal=ap-1] form").trigger("submit");
    await settle();
    await wrapper.get("#decide-ap-1-error [data-action=retry]").trigger("click");
    await settle();
    expect(reads).toBe(2);
    expect(wrapper.get("[data-state]").text()).toBe("申诉不成立");
    expect(wrapper.find("[data-action=decide]").exists()).toBe(false);
    wrapper.unmount();
  });
});
