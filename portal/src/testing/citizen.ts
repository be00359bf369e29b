// Answers of the signed-in citizen's API, shaped as the gateway's schemas,
// and a sign-in state to provide instead of the real provider.

import { vi } from "vitest";
import { shallowRef } from "vue";

import type { Application, Licence, LicenceCheck, LicenceView, Mandate, ShipmentSummary, WorkItem } from "@/api";
import type { Auth, AuthStatus, IdClaims, Viewer } from "@/auth";

export const LICENCE_NO = "1.2.156.3005.2.320000JSSCJG001.11320000MB0123456K.K7Q2M9X4TB8W.001.4";

export const claims: IdClaims = {
  iss: "http://portal.test",
  sub: "u-1",
  aud: "tongban-portal",
  exp: 2_000_000_000,
  iat: 1_700_000_000,
  name: "张三",
  enterprises: [{ uscc: "91320102MA1XYR1234", name: "南京示例食品有限公司", role: "owner" }],
  mandates: [],
};

/** A sign-in state for tests: signed in (or not), with spies for signIn and signOut. */
export function fakeAuth(
  status: AuthStatus = "signed_in",
  signIn = vi.fn(async () => undefined),
  viewer: Viewer = { kind: "citizen", roles: [], department: null },
  idClaims: IdClaims = claims,
) {
  const statusRef = shallowRef<AuthStatus>(status);
  const claimsRef = shallowRef<IdClaims | null>(status === "signed_in" ? idClaims : null);
  const viewerRef = shallowRef<Viewer | null>(status === "signed_in" ? viewer : null);
  const handleCallback = vi.fn(async (_url: string) => "/my/cases");
  const auth = {
    client: { handleCallback },
    status: statusRef,
    claims: claimsRef,
    viewer: viewerRef,
    ready: Promise.resolve(status),
    signIn,
    signOut: vi.fn(async () => undefined),
  };
  return { auth: auth as unknown as Auth, handleCallback, statusRef };
}

export const mandate: Mandate = {
  mandate_id: "m-1",
  principal: { kind: "enterprise", uscc: "91320105MA1ABCD123", name: "南京代办委托有限公司" },
  agent_user_id: "u-1",
  agent_name: "张三",
  item_ids: [],
  expires_on: "2027-06-30",
  granted_at: "2026-11-01T02:00:00Z",
  revoked_at: null,
  status: "active",
};

export const licence: Licence = {
  licence_no: LICENCE_NO,
  application_id: "a-0",
  item_id: "item-0",
  item_name: "营业执照",
  holder_masked: "南京示例食品有限公司",
  issued_at: "2026-10-01T02:00:00Z",
  valid: true,
  licence_type_code: "YYZZ",
  valid_from: "2026-10-01",
  valid_to: null,
  revoked_at: null,
};

export const workItem: WorkItem = {
  application_id: "a-1",
  item_id: "item-1",
  item_name: "食品生产许可证核发（保健食品）",
  department_code: "js-amr",
  region_code: "320000",
  store_id: "store-js-amr",
  applicant_id: "u-1",
  state: "accepted",
  due_date: "2026-12-16",
  submitted_at: "2026-12-01T01:30:00Z",
  delivery_mode: "express",
  licence_no: null,
  overdue: false,
  reviews: [],
  legal_due_date: "2026-12-30",
  process_version: 0,
  signal: "green",
  calendar_provisional: false,
  task: null,
};

export function application(overrides: Partial<Application> = {}): Application {
  const { task: _task, ...base } = workItem;
  return {
    ...base,
    joint_departments: [],
    on_behalf_of: { kind: "enterprise", name: "南京示例食品有限公司", uscc: "91320102MA1XYR1234" },
    mandate_id: null,
    form: {},
    materials: [{ name: "食品生产许可申请书", copies: 1, original: true }],
    delivery: {
      mode: "express",
      address: { name: "张三", phone: "138****8000", province: "江苏省", city: "南京市", district: "玄武区", street: "北京东路2号", postcode: "210000" },
    },
    window: null,
    steps: [
      {
        id: "accept",
        kind: "accept",
        state: "done",
        department_code: "js-amr",
        role: "window_clerk",
        days: 1,
        started_on: "2026-12-01",
        due_date: "2026-12-02",
        finished_at: "2026-12-01T03:00:00Z",
        signal: null,
        join: null,
        branches: [],
        decided_by: "clerk-1",
        comment: null,
        auto: null,
        evidence: null,
        covered_by: null,
      },
      {
        id: "approve",
        kind: "approve",
        state: "active",
        department_code: "js-amr",
        role: "approver",
        days: 8,
        started_on: "2026-12-01",
        due_date: "2026-12-11",
        finished_at: null,
        signal: "yellow",
        join: null,
        branches: [],
        decided_by: null,
        comment: null,
        auto: null,
        evidence: null,
        covered_by: null,
      },
    ],
    available_actions: [{ action: "withdraw", step: null }],
    clock: { running: true, stopped_on: null, stopped_for: null },
    missing_materials: [],
    supplement_due: null,
    extensions: [],
    suspensions: [],
    escalations: [],
    timeline: [
      { at: "2026-12-01T01:30:00Z", state: "submitted", action: "submit", actor_id: "u-1", actor_role: "applicant", comment: "", step: null, on_behalf_of: null },
      { at: "2026-12-01T03:00:00Z", state: "accepted", action: "accept", actor_id: "clerk-1", actor_role: "window_clerk", comment: "材料齐全", step: "accept", on_behalf_of: null },
    ],
    payment: null,
    shipment_failure: null,
    ...overrides,
  };
}

export const shipment: ShipmentSummary = {
  shipment_id: "s-1",
  tracking_no: "EA123456789CN",
  application_id: "a-1",
  direction: "materials",
  attempt: 1,
  status: "in_transit",
  sender: { name: "张三", phone: "13800138000", province: "江苏省", city: "南京市", district: "玄武区", street: "北京东路2号", postcode: "210000" },
  recipient: { name: "江苏省政务服务中心", phone: "025-83330012", province: "江苏省", city: "南京市", district: "建邺区", street: "江东中路311号", postcode: "210019" },
  created_at: "2026-12-01T01:31:00Z",
};

export const licenceView: LicenceView = {
  licence_no: LICENCE_NO,
  document: {
    licence: { licence_no: LICENCE_NO, name: "食品生产许可证", holder: "南京示例食品有限公司" },
    signature: { alg: "EdDSA", kid: "lk-1", value: "c2ln" },
  },
  qr_payload: `http://portal.test/api/v1/licences/${LICENCE_NO}/verify`,
  valid: true,
  revoked_at: null,
  revocation_reason: null,
};

export const licenceCheck: LicenceCheck = {
  licence_no: LICENCE_NO,
  valid: false,
  failed: ["revocation"],
  checks: { signature: "valid", register: "found", period: "current", revocation: "revoked" },
  holder_masked: "南京示例食品有限公司",
  item_name: "食品生产许可证核发（保健食品）",
  licence_type: { code: "SPSCXK", name: "食品生产许可证" },
  issuer_uscc: "11320000MB0123456K",
  issued_at: "2026-10-01T02:00:00Z",
  valid_from: "2026-10-01",
  valid_to: "2031-09-30",
  revoked_at: "2026-11-20T02:00:00Z",
  revocation_reason: "申请人申请注销",
};
