// Answers of the staff's and operators' API, shaped as the gateway's schemas,
// and their sign-in states.

import type { Auth, IdClaims, Viewer } from "@/auth";
import type {
  Application,
  CatalogStats,
  EscalationEntry,
  Indicators,
  OidcClient,
  RatingStats,
  Rectification,
  Store,
  WorkItem,
} from "@/api";

import { application, claims, fakeAuth, workItem } from "./citizen";

export const clerk: Viewer = { kind: "staff", roles: ["window_clerk", "approver"], department: "js-amr" };
export const deptAdmin: Viewer = { kind: "staff", roles: ["dept_admin"], department: "js-amr" };
export const operator: Viewer = { kind: "operator", roles: [], department: null };

const staffClaims: IdClaims = { ...claims, sub: "clerk-1", name: "李四", enterprises: [], department_code: "js-amr", roles: ["window_clerk"] };

/** A signed-in staff member or operator. */
export function signedInAs(viewer: Viewer): Auth {
  return fakeAuth("signed_in", undefined, viewer, { ...staffClaims, name: viewer.kind === "operator" ? "王五" : "李四" }).auth;
}

export function worklistRow(overrides: Partial<WorkItem> = {}): WorkItem {
  return {
    ...workItem,
    task: { step: "approve", role: "approver", due_date: "2026-12-11", signal: "red" },
    signal: "red",
    ...overrides,
  };
}

/** A case at a joint review with two departments' branches, the approver's decisions open. */
export function staffApplication(overrides: Partial<Application> = {}): Application {
  const base = application();
  return application({
    state: "accepted",
    on_behalf_of: { kind: "person", name: "王*", user_id: "u-9" },
    steps: [
      base.steps[0]!,
      {
        ...base.steps[1]!,
        id: "joint",
        kind: "parallel",
        join: "all",
        department_code: null,
        role: null,
        branches: [
          { department_code: "js-amr", role: "approver", state: "active", due_date: "2026-12-09", signal: "yellow", decided_by: null, comment: null },
          { department_code: "js-fire", role: "approver", state: "done", due_date: "2026-12-09", signal: null, decided_by: "fire-1", comment: "消防意见：同意" },
        ],
      },
    ],
    available_actions: [
      { action: "approve", step: "joint" },
      { action: "deny", step: "joint" },
      { action: "request_supplement", step: "joint" },
      { action: "request_extension", step: null },
      { action: "suspend", step: null },
    ],
    materials: [
      { name: "食品生产许可申请书", copies: 1, original: true },
      { name: "营业执照", licence_no: "JS-LIC-1" },
    ],
    ...overrides,
  });
}

export function rectification(overrides: Partial<Rectification> = {}): Rectification {
  return {
    rectification_id: "r-1",
    review_id: "rv-1",
    application_id: "a-1",
    visit_id: null,
    department_code: "js-amr",
    grade: 1,
    review_comment: "窗口指引不清楚，跑了两趟",
    item_id: "item-1",
    item_name: "食品生产许可证核发（保健食品）",
    store_id: "store-js-amr",
    submitted_at: "2026-12-01T02:00:00Z",
    state: "awaiting_verification",
    round: 1,
    opened_at: "2026-12-01T02:00:01Z",
    verify_due: "2026-12-02",
    decision: null,
    plan: null,
    working_days: null,
    due_date: null,
    verified_at: null,
    verified_by: null,
    resolved_at: null,
    resolved_by: null,
    resolution_comment: null,
    overdue: false,
    return_visits: [],
    escalations: [],
    closed_at: null,
    outcome: null,
    ...overrides,
  };
}

export const escalationEntry: EscalationEntry = {
  application_id: "a-1",
  item_name: "食品生产许可证核发（保健食品）",
  step_id: "approve",
  department_code: "js-amr",
  level: "dept_admin",
  raised_at: "2026-12-12T01:00:00Z",
  due_date: "2026-12-11",
  signal: "red",
};

export function indicators(overrides: Partial<Indicators> = {}): Indicators {
  return {
    reviews: 100,
    praise_rate: 0.9,
    average_grade: 4.5,
    evaluable: 200,
    praise: 90,
    bad: 4,
    rectified: 3,
    real_name_bad: 4,
    called_back: 2,
    evaluation_rate: 0.5,
    bad_rate: 0.04,
    rectification_rate: 0.75,
    callback_rate: 0.5,
    sub_grades: {},
    ...overrides,
  };
}

export const stores: Store[] = [
  { store_id: "store-js-amr", name: "江苏省市场监督管理局旗舰店", kind: "department", department_code: "js-amr", region_code: "320000", rating: { reviews: 100, praise_rate: 0.9, average_grade: 4.5 } },
  { store_id: "store-js-fire", name: "江苏省消防救援总队旗舰店", kind: "department", department_code: "js-fire", region_code: "320000", rating: { reviews: 10, praise_rate: 0.95, average_grade: 4.8 } },
  { store_id: "store-320100", name: "南京市旗舰店", kind: "city", department_code: null, region_code: "320100", rating: { reviews: 50, praise_rate: 0.8, average_grade: 4.1 } },
];

export const ratingStats: RatingStats = {
  store: null,
  department: null,
  region: null,
  item: null,
  from: null,
  to: null,
  overall: indicators({ reviews: 160, praise_rate: 0.875 }),
  escalations: { dept_admin: 2, operator: 1 },
  stores: [
    { store_id: "store-js-amr", rating: indicators() },
    { store_id: "store-js-fire", rating: indicators({ reviews: 10, praise_rate: 0.95, rectification_rate: null }) },
    { store_id: "store-320100", rating: indicators({ reviews: 50, praise_rate: 0.8 }) },
  ],
  departments: [{ department_code: "js-amr", rating: indicators(), escalations: { dept_admin: 2, operator: 1 } }],
  items: [],
  regions: [],
};

export const catalogStats: CatalogStats = {
  published: 120,
  online: 90,
  online_rate: 0.75,
  implemented: 80,
  deviating: 2,
  basic_items: 100,
  by_level: {
    province: { published: 40, online: 35, online_rate: 0.875, implemented: 40, deviating: 0 },
    city: { published: 50, online: 35, online_rate: 0.7, implemented: 30, deviating: 2 },
    county: { published: 30, online: 20, online_rate: 0.6667, implemented: 10, deviating: 0 },
  },
  by_region: [
    { region_code: "320100", name: "南京市", level: "city", published: 50, online: 35, online_rate: 0.7, implemented: 30, deviating: 2, implementation_rate: 0.3 },
    { region_code: "329999", name: null, level: null, published: 0, online: 0, online_rate: null, implemented: 0, deviating: 0, implementation_rate: null },
  ],
};

export const oidcClient: OidcClient = {
  client_id: "c_gjj",
  name: "苏州市住房公积金管理中心",
  department_code: "sz-gjj",
  redirect_uris: ["https://gjj.suzhou.gov.cn/callback"],
  post_logout_redirect_uris: [],
  backchannel_logout_uri: null,
  jwks: null,
  token_endpoint_auth_method: "client_secret_basic",
  skip_consent: true,
  created_at: "2026-11-01T02:00:00Z",
  updated_at: "2026-11-01T02:00:00Z",
};
