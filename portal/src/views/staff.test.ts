import { beforeEach, describe, expect, it, vi } from "vitest";
import { createMemoryHistory } from "vue-router";

import { ApiClient } from "@/api/client";
import App from "@/App.vue";
import { authKey, type Auth } from "@/auth";
import { fakeAuth } from "@/testing/citizen";
import {
  clerk,
  deptAdmin,
  escalationEntry,
  operator,
  rectification,
  signedInAs,
  staffApplication,
  worklistRow,
} from "@/testing/staff";
import {
  apiError,
  expectLabelled,
  fakeGateway,
  openApp,
  portalMount,
  resetPage,
  settle,
  type GatewayTable,
} from "@/testing/support";
import { createPortalRouter } from "@/router";

type Table = GatewayTable;

function staffGateway(overrides: Table = {}) {
  return fakeGateway({
    "GET /api/v1/worklist": { body: { items: [worklistRow(), worklistRow({ application_id: "a-2", signal: "green", task: null, state: "completed" })], page: 1, page_size: 20, total: 2 } },
    "GET /api/v1/applications/a-1": { body: staffApplication() },
    "GET /api/v1/rectifications": { body: { items: [rectification()], page: 1, page_size: 20, total: 1 } },
    "GET /api/v1/rectifications/r-1": { body: rectification() },
    "GET /api/v1/escalations": { body: { items: [escalationEntry], page: 1, page_size: 20, total: 1 } },
    ...overrides,
  });
}

async function open(path: string, overrides: Table = {}, auth: Auth = signedInAs(clerk)) {
  return openApp(path, staffGateway(overrides), { auth });
}

beforeEach(resetPage);

describe("guarded by kind and role", () => {
  it("lets staff open the worklist and sends a citizen to the page that says it is not theirs", async () => {
    const staffRouter = createPortalRouter(createMemoryHistory(), signedInAs(clerk));
    await staffRouter.push("/staff/worklist");
    expect(staffRouter.currentRoute.value.name).toBe("staff-worklist");

    const citizenRouter = createPortalRouter(createMemoryHistory(), fakeAuth().auth);
    await citizenRouter.push("/staff/worklist");
    expect(citizenRouter.currentRoute.value.name).toBe("forbidden");
    expect(citizenRouter.currentRoute.value.query).toEqual({ page: "/staff/worklist" });
  });

  it("keeps escalations for department admins and operators, and the operator's pages for operators", async () => {
    const clerkRouter = createPortalRouter(createMemoryHistory(), signedInAs(clerk));
    await clerkRouter.push("/staff/escalations");
    expect(clerkRouter.currentRoute.value.name).toBe("forbidden");
    await clerkRouter.push("/operator/live");
    expect(clerkRouter.currentRoute.value.name).toBe("forbidden");

    const adminRouter = createPortalRouter(createMemoryHistory(), signedInAs(deptAdmin));
    await adminRouter.push("/staff/escalations");
    expect(adminRouter.currentRoute.value.name).toBe("escalations");

    const operatorRouter = createPortalRouter(createMemoryHistory(), signedInAs(operator));
    await operatorRouter.push("/staff/escalations");
    expect(operatorRouter.currentRoute.value.name).toBe("escalations");
    await operatorRouter.push("/operator/clients");
    expect(operatorRouter.currentRoute.value.name).toBe("oidc-clients");
  });

  it("sends a signed-out reader to sign in first", async () => {
    const { auth } = fakeAuth("signed_out");
    const router = createPortalRouter(createMemoryHistory(), auth);
    await router.push("/");
    await router.push("/staff/rectifications?state=verified");
    expect(auth.signIn).toHaveBeenCalledWith("/staff/rectifications?state=verified");
  });

  it("says so on the forbidden page, and offers another account", async () => {
    const auth = fakeAuth().auth;
    const { wrapper } = await open("/forbidden?page=/staff/worklist", {}, auth);
    expect(wrapper.get("h1").text()).toBe("此页面不对您的账号开放");
    expect(wrapper.text()).toContain("/staff/worklist");
    await wrapper.get("[data-action=switch-account]").trigger("click");
    expect(auth.signOut).toHaveBeenCalled();
    wrapper.unmount();
  });
});

describe("navigation by role", () => {
  it("shows a clerk the worklist, rectifications, window ratings and reviews, not the citizen's pages", async () => {
    const { wrapper } = await open("/");
    expect(wrapper.findAll(".site-nav:not(.site-nav--work) .site-nav__link").map((l) => l.text())).toEqual(["办事大厅", "旗舰店", "证照核验"]);
    const work = wrapper.get(".site-nav--work");
    expect(work.attributes("aria-label")).toBe("工作台");
    expect(work.findAll("a").map((l) => l.text())).toEqual(["待办事项", "差评整改", "一次一评", "评价管理"]);
    expect(wrapper.get(".site-header__user").text()).toBe("已登录：李四（窗口工作人员、审批人员）");
    wrapper.unmount();
  });

  it("shows a department admin reviews, appeals, escalations and systems, an operator the figures too", async () => {
    const admin = await open("/", {}, signedInAs(deptAdmin));
    expect(admin.wrapper.get(".site-nav--work").findAll("a").map((l) => l.text())).toEqual(["待办事项", "差评整改", "评价管理", "评价申诉", "督办", "接入系统"]);
    admin.wrapper.unmount();
    const op = await open("/", {}, signedInAs(operator));
    expect(op.wrapper.get(".site-nav--work").findAll("a").map((l) => l.text())).toEqual([
      "旗舰店榜单",
      "实时大屏",
      "事项一致性",
      "差评整改",
      "评价管理",
      "评价申诉",
      "督办",
      "接入系统",
    ]);
    op.wrapper.unmount();
  });
});

describe("worklist", () => {
  it("sends the URL's filters and shows each case's signal in words and a shape", async () => {
    const { wrapper, requests } = await open("/staff/worklist?state=accepted&signal=red&sort=due&page=2&x=1");
    const query = requests.find((r) => r.url.pathname === "/api/v1/worklist")!.url.searchParams;
    expect(Object.fromEntries(query)).toEqual({ state: "accepted", signal: "red", sort: "due", page: "2", page_size: "20" });
    expect((wrapper.get("#worklist-state").element as HTMLSelectElement).value).toBe("accepted");
    const rows = wrapper.findAll("tbody tr");
    expect(rows).toHaveLength(2);
    const red = rows[0]!.get("[data-signal=red]");
    expect(red.text()).toBe("■ 已超期");
    expect(red.get(".signal__icon").attributes("aria-hidden")).toBe("true");
    expect(rows[0]!.text()).toContain("环节 approve · 审批人员");
    expect(rows[1]!.text()).toContain("本部门暂无待办环节");
    expect(rows[1]!.get("[data-signal=green]").text()).toBe("● 正常");
    expect(wrapper.get("[role=status].results__status").text()).toBe("共 2 件，当前显示第 1–2 件。");
    expectLabelled(wrapper.get("form").element);
    wrapper.unmount();
  });

  it("puts chosen filters in the URL, from page 1, and moves the focus to the results", async () => {
    const { wrapper, router } = await open("/staff/worklist?page=3");
    await wrapper.get("#worklist-signal").setValue("yellow");
    await wrapper.get("#worklist-sort").setValue("due");
    await wrapper.get("form").trigger("submit");
    await settle();
    expect(router.currentRoute.value.query).toEqual({ signal: "yellow", sort: "due" });
    expect(document.activeElement).toBe(wrapper.get("section.results").element);
    wrapper.unmount();
  });

  it("shows the API's 403 through the error panel", async () => {
    const { wrapper } = await open("/staff/worklist", { "GET /api/v1/worklist": apiError(403, "forbidden") });
    expect(wrapper.get(".error-panel").attributes("data-kind")).toBe("403");
    expect(wrapper.get(".error-panel").text()).toContain("没有办理权限");
    wrapper.unmount();
  });

  it("offers to try again after a 503", async () => {
    let calls = 0;
    const { wrapper } = await open("/staff/worklist", {
      "GET /api/v1/worklist": () => (++calls === 1 ? apiError(503, "unavailable") : { body: { items: [], page: 1, page_size: 20, total: 0 } }),
    });
    expect(wrapper.get(".error-panel").attributes("data-kind")).toBe("503");
    await wrapper.get("[data-action=retry]").trigger("click");
    await settle();
    expect(wrapper.text()).toContain("没有符合条件的办件。");
    wrapper.unmount();
  });
});

describe("a case for staff", () => {
  it("shows materials, each joint-review branch and the decisions of the current step", async () => {
    const { wrapper } = await open("/staff/cases/a-1");
    expect(wrapper.get("h1").text()).toBe("食品生产许可证核发（保健食品）");
    expect(wrapper.findAll(".material").map((m) => m.text())).toEqual([
      "食品生产许可申请书 · 1 份 · 原件",
      "营业执照 · 复用电子证照 JS-LIC-1",
    ]);
    const branches = wrapper.findAll("[data-branch]");
    expect(branches.map((b) => b.attributes("data-branch"))).toEqual(["js-amr", "js-fire"]);
    expect(branches[0]!.text()).toContain("办理中");
    expect(branches[0]!.get("[data-signal=yellow]").text()).toBe("▲ 临近期限");
    expect(branches[1]!.text()).toContain("消防意见：同意");
    expect(wrapper.get("[data-step=joint]").text()).toContain("全部部门同意后通过");
    expect(wrapper.findAll("input[name=decision]").map((i) => wrapper.get(`label[for=${i.attributes("id")}]`).text())).toEqual([
      "批准",
      "不予批准",
      "要求补正材料",
    ]);
    expect(wrapper.get("#decision-title").text()).toBe("审查决定");
    expectLabelled(wrapper.get(".case__actions").element);
    wrapper.unmount();
  });

  it("asks for materials with the step and comment, then announces it and starts at the heading", async () => {
    const { wrapper, requests } = await open("/staff/cases/a-1", {
      "POST /api/v1/applications/a-1/actions": {
        body: staffApplication({ state: "supplement_requested", available_actions: [], missing_materials: ["营业执照副本"], supplement_due: "2026-12-20" }),
      },
    });
    await wrapper.get("#decision-choice-2").setValue(true);
    await wrapper.get("form").trigger("submit");
    await settle();
    // Nothing sent without a material to ask for.
    expect(requests.some((r) => r.method === "POST")).toBe(false);
    expect(wrapper.get("#decision-missing-error").text()).toBe("请至少填写一项需补正的材料。");

    await wrapper.get("#decision-missing").setValue(" 营业执照副本 \n\n");
    await wrapper.get("#decision-comment").setValue("请补充副本");
    await wrapper.get("form").trigger("submit");
    await settle();
    const post = requests.find((r) => r.method === "POST")!;
    expect(post.body).toEqual({ action: "request_supplement", step: "joint", comment: "请补充副本", missing_materials: ["营业执照副本"] });
    expect(wrapper.get(".page > [role=status]").text()).toBe("办理决定已提交，办件已更新。");
    expect(document.activeElement).toBe(wrapper.get("h1").element);
    expect(wrapper.get("[data-missing]").text()).toContain("营业执照副本");
    expect(wrapper.text()).toContain("当前没有需要您办理的操作。");
    wrapper.unmount();
  });

  it("lists a 422's fields under the form's own names, linked to the fields", async () => {
    const { wrapper } = await open("/staff/cases/a-1", {
      "POST /api/v1/applications/a-1/actions": apiError(422, "invalid", "invalid", { comment: "Longer than maximum length 1000." }),
    });
    await wrapper.get("#decision-choice-1").setValue(true);
    await wrapper.get("form").trigger("submit");
    await settle();
    const panel = wrapper.get("#decision-error");
    expect(document.activeElement).toBe(panel.element);
    expect(panel.get("[data-field=comment]").text()).toBe("办理意见：Longer than maximum length 1000.");
    expect(panel.get("[data-field=comment] a").attributes("href")).toBe("#decision-comment");
    expect(wrapper.get("#decision-comment").attributes("aria-invalid")).toBe("true");
    expect(wrapper.get("#decision-comment").attributes("aria-describedby")).toContain("decision-comment-error");
    wrapper.unmount();
  });

  it("reads the case again after a 409 instead of repeating the decision", async () => {
    let reads = 0;
    const { wrapper, requests } = await open("/staff/cases/a-1", {
      "GET /api/v1/applications/a-1": () => ({ body: staffApplication(++reads > 1 ? { available_actions: [] } : {}) }),
      "POST /api/v1/applications/a-1/actions": apiError(409, "conflict"),
    });
    await wrapper.get("form").trigger("submit");
    await settle();
    expect(wrapper.get("#decision-error .error-panel").attributes("data-kind")).toBe("409");
    await wrapper.get("#decision-error [data-action=retry]").trigger("click");
    await settle();
    expect(requests.filter((r) => r.method === "POST")).toHaveLength(1);
    expect(reads).toBe(2);
    expect(wrapper.find("#decision-error").exists()).toBe(false);
    wrapper.unmount();
  });

  it("counts down a 429 before the decision may be sent again", async () => {
    const { wrapper } = await open("/staff/cases/a-1", {
      "POST /api/v1/applications/a-1/actions": { ...apiError(429, "rate_limited"), headers: { "Retry-After": "5" } },
    });
    await wrapper.get("form").trigger("submit");
    await settle();
    const panel = wrapper.get("#decision-error");
    expect(panel.text()).toContain("请在 5 秒后重试。");
    expect(panel.get("[data-action=retry]").attributes("disabled")).toBeDefined();
    wrapper.unmount();
  });

  it("asks for an extension and begins a special procedure, showing the case each answers", async () => {
    const suspended = staffApplication({
      available_actions: [{ action: "end_suspension", step: null }],
      clock: { running: false, stopped_on: "2026-12-03", stopped_for: "suspension" },
      suspensions: [
        { suspension_id: "s-1", kind: "hearing", reason: "申请人申请听证", started_by: "clerk-1", started_at: "2026-12-03T02:00:00Z", ended_by: null, ended_at: null, result: "", working_days: null },
      ],
    });
    const { wrapper, requests } = await open("/staff/cases/a-1", {
      "POST /api/v1/applications/a-1/extension": { body: staffApplication() },
      "POST /api/v1/applications/a-1/suspensions": { status: 201, body: { suspension_id: "s-1", application: suspended } },
      "POST /api/v1/applications/a-1/suspensions/s-1/end": { body: staffApplication({ available_actions: [] }) },
    });
    await wrapper.get("#extension-days").setValue("0");
    await wrapper.get("[aria-labelledby=extension-title]").trigger("submit");
    await settle();
    expect(requests.some((r) => r.method === "POST")).toBe(false);
    expect(wrapper.get("#extension-days-error").text()).toBe("请填写 1 到 365 之间的整数。");
    expect(document.activeElement?.id).toBe("extension-days");

    await wrapper.get("#extension-days").setValue("5");
    await wrapper.get("#extension-reason").setValue("需组织专家论证");
    await wrapper.get("[aria-labelledby=extension-title]").trigger("submit");
    await settle();
    expect(requests.find((r) => r.url.pathname.endsWith("/extension"))?.body).toEqual({ working_days: 5, reason: "需组织专家论证" });

    await wrapper.get("#suspension-kind").setValue("hearing");
    await wrapper.get("#suspension-reason").setValue("申请人申请听证");
    await wrapper.get("[aria-labelledby=suspension-title]").trigger("submit");
    await settle();
    expect(requests.find((r) => r.url.pathname.endsWith("/suspensions"))?.body).toEqual({ kind: "hearing", reason: "申请人申请听证" });
    expect(wrapper.text()).toContain("计时已暂停：特别程序中");
    expect(wrapper.find("#staff-suspensions").exists()).toBe(true);

    await wrapper.get("#suspension-result").setValue("听证已举行");
    await wrapper.get("[aria-labelledby=end-suspension-title]").trigger("submit");
    await settle();
    expect(requests.find((r) => r.url.pathname.endsWith("/s-1/end"))?.body).toEqual({ result: "听证已举行" });
    expect(wrapper.get(".page > [role=status]").text()).toBe("特别程序已结束，计时恢复。");
    wrapper.unmount();
  });

  it("lets the department admin decide a waiting extension", async () => {
    const waiting = staffApplication({
      available_actions: [{ action: "decide_extension", step: null }],
      extensions: [
        { extension_id: "e-1", working_days: 5, reason: "需组织专家论证", state: "requested", requested_by: "clerk-1", requested_at: "2026-12-02T02:00:00Z", decided_by: null, decided_at: null, comment: "" },
      ],
    });
    const { wrapper, requests } = await open(
      "/staff/cases/a-1",
      {
        "GET /api/v1/applications/a-1": { body: waiting },
        "POST /api/v1/applications/a-1/extension/decision": { body: staffApplication({ available_actions: [] }) },
      },
      signedInAs(deptAdmin),
    );
    expect(wrapper.text()).toContain("申请延长 5 个工作日，理由：需组织专家论证");
    await wrapper.get("#extension-approve-no").setValue(true);
    await wrapper.get("#extension-comment").setValue("理由不充分");
    await wrapper.get("[aria-labelledby=extension-decision-title]").trigger("submit");
    await settle();
    expect(requests.find((r) => r.method === "POST")?.body).toEqual({ approve: false, comment: "理由不充分" });
    wrapper.unmount();
  });

  it("shows the principal's full identity only when asked, and the API's 404 when it offers none", async () => {
    const { wrapper, requests } = await open("/staff/cases/a-1", {
      "GET /api/v1/applications/a-1/principal": { body: { application_id: "a-1", kind: "person", user_id: "u-9", name: "王五", id_number: "320102199001011234" } },
    });
    expect(requests.some((r) => r.url.pathname.endsWith("/principal"))).toBe(false);
    await wrapper.get("[data-action=principal]").trigger("click");
    await settle();
    expect(wrapper.get("[data-principal]").text()).toContain("320102199001011234");
    wrapper.unmount();

    const other = await open("/staff/cases/a-1", { "GET /api/v1/applications/a-1/principal": apiError(404, "not_found") });
    await other.wrapper.get("[data-action=principal]").trigger("click");
    await settle();
    expect(other.wrapper.get("[aria-labelledby=principal-title] .error-panel").attributes("data-kind")).toBe("404");
    other.wrapper.unmount();
  });

  it("offers no principal for an enterprise's case, and shows a 404 case as the page", async () => {
    const { wrapper } = await open("/staff/cases/a-1", {
      "GET /api/v1/applications/a-1": { body: staffApplication({ on_behalf_of: { kind: "enterprise", name: "南京示例食品有限公司", uscc: "91320102MA1XYR1234" } }) },
    });
    expect(wrapper.find("[data-action=principal]").exists()).toBe(false);
    wrapper.unmount();
    const missing = await open("/staff/cases/zz");
    expect(missing.wrapper.get(".error-panel").attributes("data-kind")).toBe("404");
    expect(missing.wrapper.get("h1").text()).toBe("未找到相关内容");
    missing.wrapper.unmount();
  });
});

describe("in English", () => {
  it("shows the worklist's words in English", async () => {
    const gateway = staffGateway();
    const { wrapper } = await portalMount(App, {
      path: "/staff/worklist",
      locale: "en",
      client: new ApiClient({ fetch: gateway.fetch }),
      attachTo: document.body,
      global: { provide: { [authKey as symbol]: signedInAs(clerk) } },
    });
    await settle();
    expect(wrapper.get("h1").text()).toBe("Worklist");
    expect(wrapper.get("[data-signal=red]").text()).toBe("■ Overdue");
    expect(document.title).toBe("Worklist - tongban");
    wrapper.unmount();
  });
});

describe("rectifications", () => {
  it("lists with the URL's filters and shows the API's 403", async () => {
    const { wrapper, requests } = await open("/staff/rectifications?state=verified&level=dept_admin");
    const query = requests.find((r) => r.url.pathname === "/api/v1/rectifications")!.url.searchParams;
    expect(Object.fromEntries(query)).toEqual({ state: "verified", level: "dept_admin", page: "1", page_size: "20" });
    expect(wrapper.get("tbody tr").text()).toContain("窗口指引不清楚");
    expect(wrapper.get("tbody tr").text()).toContain("待核实");
    wrapper.unmount();

    const refused = await open("/staff/rectifications", { "GET /api/v1/rectifications": apiError(403, "forbidden") });
    expect(refused.wrapper.get(".error-panel").attributes("data-kind")).toBe("403");
    refused.wrapper.unmount();
  });

  it("verifies with a deadline's working days, and only a deadline sends them", async () => {
    const { wrapper, requests } = await open("/staff/rectifications/r-1", {
      "POST /api/v1/rectifications/r-1/verify": {
        body: rectification({ state: "verified", decision: "deadline", plan: "培训窗口人员", working_days: 10, due_date: "2026-12-16" }),
      },
    });
    expect(wrapper.find("#verify-days").exists()).toBe(false);
    await wrapper.get("#verify-decision-1").setValue(true);
    await wrapper.get("#verify-plan").setValue("培训窗口人员");
    await wrapper.get("#verify-days").setValue("10");
    expectLabelled(wrapper.get("form").element);
    await wrapper.get("form").trigger("submit");
    await settle();
    expect(requests.find((r) => r.method === "POST")?.body).toEqual({ decision: "deadline", plan: "培训窗口人员", working_days: 10 });
    expect(wrapper.get(".page > [role=status]").text()).toBe("核实结论已提交。");
    expect(document.activeElement).toBe(wrapper.get("h1").element);
    // Now the fix is asked for.
    expect(wrapper.find("#resolve-title").exists()).toBe(true);
    wrapper.unmount();
  });

  it("shows a 422 of the verification beside its fields", async () => {
    const { wrapper } = await open("/staff/rectifications/r-1", {
      "POST /api/v1/rectifications/r-1/verify": apiError(422, "invalid", "invalid", { plan: "String does not match expected pattern." }),
    });
    await wrapper.get("#verify-decision-0").setValue(true);
    await wrapper.get("form").trigger("submit");
    await settle();
    expect(wrapper.get("#verify-error [data-field=plan]").text()).toBe("整改措施：String does not match expected pattern.");
    expect(wrapper.get("#verify-plan-error").text()).toBe("String does not match expected pattern.");
    wrapper.unmount();
  });

  it("records the fix, then the call back: reached and not satisfied", async () => {
    const { wrapper, requests } = await open("/staff/rectifications/r-1", {
      "GET /api/v1/rectifications/r-1": { body: rectification({ state: "verified", decision: "immediate", plan: "补齐指引" }) },
      "POST /api/v1/rectifications/r-1/resolve": { body: rectification({ state: "resolved", decision: "immediate", resolved_at: "2026-12-02T02:00:00Z" }) },
      "POST /api/v1/rectifications/r-1/return-visit": {
        body: rectification({
          state: "awaiting_verification",
          round: 2,
          return_visits: [{ round: 1, reached: true, satisfied: false, comment: "仍不满意", recorded_at: "2026-12-03T02:00:00Z" }],
        }),
      },
    });
    await wrapper.get("#resolve-comment").setValue("已补齐窗口指引");
    await wrapper.get("form").trigger("submit");
    await settle();
    expect(requests.find((r) => r.url.pathname.endsWith("/resolve"))?.body).toEqual({ comment: "已补齐窗口指引" });

    expect(wrapper.find("#visit-satisfied-yes").exists()).toBe(false);
    await wrapper.get("#visit-reached-yes").setValue(true);
    await wrapper.get("#visit-satisfied-no").setValue(true);
    expect(wrapper.text()).toContain("不满意将重新进入整改（仅一次）。");
    await wrapper.get("#visit-comment").setValue("仍不满意");
    await wrapper.get("form").trigger("submit");
    await settle();
    expect(requests.find((r) => r.url.pathname.endsWith("/return-visit"))?.body).toEqual({ reached: true, satisfied: false, comment: "仍不满意" });
    expect(wrapper.text()).toContain("第 2 轮");
    expect(wrapper.find("#visits-title").exists()).toBe(true);
    wrapper.unmount();
  });

  it("sends satisfied as null when the reviewer was not reached, and offers reload after a 409", async () => {
    let reads = 0;
    const { wrapper, requests } = await open("/staff/rectifications/r-1", {
      "GET /api/v1/rectifications/r-1": () => ({ body: rectification({ state: ++reads > 1 ? "closed" : "resolved" }) }),
      "POST /api/v1/rectifications/r-1/return-visit": apiError(409, "conflict"),
    });
    await wrapper.get("#visit-reached-no").setValue(true);
    await wrapper.get("form").trigger("submit");
    await settle();
    expect(requests.find((r) => r.method === "POST")?.body).toEqual({ reached: false, satisfied: null, comment: "" });
    await wrapper.get("#returnVisit-error [data-action=retry]").trigger("click");
    await settle();
    expect(wrapper.text()).toContain("已办结");
    expect(wrapper.find("#visit-title").exists()).toBe(false);
    wrapper.unmount();
  });
});

describe("escalations", () => {
  it("lists the department's escalations with their signal, and filters by level", async () => {
    const { wrapper, router, requests } = await open("/staff/escalations", {}, signedInAs(deptAdmin));
    const row = wrapper.get("tbody tr");
    expect(row.text()).toContain("部门督办");
    expect(row.get("[data-signal=red]").text()).toBe("■ 已超期");
    expect(row.get("a").attributes("href")).toBe("/staff/cases/a-1");
    await wrapper.get("#escalation-level").setValue("operator");
    await wrapper.get("form").trigger("submit");
    await settle();
    expect(router.currentRoute.value.query).toEqual({ level: "operator" });
    expect(requests.at(-1)!.url.searchParams.get("level")).toBe("operator");
    wrapper.unmount();
  });

  it("shows the API's 403 when the account lost the role", async () => {
    const { wrapper } = await open("/staff/escalations", { "GET /api/v1/escalations": apiError(403, "forbidden") }, signedInAs(deptAdmin));
    expect(wrapper.get(".error-panel").attributes("data-kind")).toBe("403");
    expect(wrapper.find("[data-action=home]").exists()).toBe(true);
    wrapper.unmount();
  });
});
