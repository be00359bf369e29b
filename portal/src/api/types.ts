// Wire types of the gateway's answers, written from the schemas of its OpenAPI
// document (GET /openapi.json, components.schemas). Each interface carries the
// schema's name; a field the document marks nullable is `| null` here.

/** ErrorDetail: the body of every error is `{"error": ErrorDetail}`. */
export interface ErrorDetail {
  code: string;
  message: string;
  /** Reason per bad field; a nested field is named by its dotted path. */
  fields: Record<string, string>;
}

/** Error (named ErrorBody here, beside the built-in Error). */
export interface ErrorBody {
  error: ErrorDetail;
}

export type Level = "province" | "city" | "county";
export type HandlingMode = "online" | "express" | "window";
export type Served = "natural_person" | "legal_person";
export type ItemStatus = "draft" | "published" | "retired";
export type CaseType = "immediate" | "promised";
/** National item type codes (01 administrative licence … 20 public service). */
export type ItemType = "01" | "02" | "03" | "04" | "05" | "06" | "07" | "08" | "09" | "10" | "20";

/** Region: an administrative division. */
export interface Region {
  code: string;
  name: string;
  level: Level;
  parent_code: string | null;
}

export interface RegionList {
  items: Region[];
}

export type DepartmentKind = "department" | "approval_bureau" | "zone_committee";

/** Department. */
export interface Department {
  code: string;
  name: string;
  region_code: string;
  level: Level;
  store_id: string;
  kind: DepartmentKind;
  uscc: string | null;
}

export interface DepartmentList {
  items: Department[];
}

/** CatalogFee: one charge of an item. */
export interface CatalogFee {
  name: string;
  amount_fen: number;
  /** "" for none */
  standard: string;
  /** "" for none */
  legal_basis: string;
  waivable: boolean;
}

/** LicenceType: the licence an item issues. */
export interface LicenceType {
  code: string;
  name: string;
  /** null: valid without end */
  valid_years: number | null;
}

/** ItemSummary: one row of a catalogue search. */
export interface ItemSummary {
  item_id: string;
  code: string;
  name: string;
  name_en: string;
  department_code: string;
  department_name: string;
  region_code: string;
  level: Level;
  modes: HandlingMode[];
  /** working days */
  promised_days: number;
  status: ItemStatus;
  /** 集中批: the department the item was taken over from */
  transferred_from: string | null;
  /** [] when free */
  fees: CatalogFee[];
  licence_type: LicenceType | null;
  basic_code: string | null;
  implementing_code: string | null;
  type: ItemType | null;
  case_type: CaseType;
  serves: Served[];
  /** visits to a window needed, 0..5 */
  visits: number;
  /** online depth 1..7 */
  online_depth: number | null;
}

export type MaterialNecessity = "required" | "conditional" | "optional";
export type MaterialSource = "applicant" | "government" | "other";

/** CatalogMaterial: one material the applicant hands in. */
export interface CatalogMaterial {
  name: string;
  copies: number;
  original: boolean;
  /** "" for none */
  note: string;
  necessity: MaterialNecessity;
  source: MaterialSource;
  paper_size: string;
  blank_form: string | null;
  sample: string | null;
  acceptance_standard: string;
}

/** FeeWaiver. */
export interface FeeWaiver {
  description: string;
  rule: Record<string, unknown>;
}

/** LegalReference. */
export interface LegalReference {
  law: string;
  /** "" for none */
  article: string;
}

/** CatalogWindow: where the item is handled in person or materials are mailed. */
export interface CatalogWindow {
  name: string;
  address: string;
  phone: string;
  postcode: string;
}

export type LimitUnit = "working_days" | "calendar_days";

/** ItemGuide: the full service guide of an item. */
export interface ItemGuide extends ItemSummary {
  description: string;
  conditions: string[];
  materials: CatalogMaterial[];
  fee_waiver: FeeWaiver | null;
  issuer_uscc: string | null;
  legal_basis: LegalReference[];
  /** working days */
  statutory_days: number;
  joint_departments: string[];
  window: CatalogWindow | null;
  handled_by: string;
  store_id: string | null;
  limit_unit: LimitUnit;
  limit_note: string;
  process_summary: string;
  place: string;
  hours: string;
  consultation_phone: string;
  complaint_phone: string;
  revision: number;
}

/** Rating: a store's rating summary. */
export interface Rating {
  reviews: number;
  /** share of grades 4 and 5, 0..1; null before the first review */
  praise_rate: number | null;
  average_grade: number | null;
}

export type StoreKind = "department" | "city";

/** Store: a flagship store with its rating summary. */
export interface Store {
  store_id: string;
  name: string;
  kind: StoreKind;
  /** null for a city store */
  department_code: string | null;
  region_code: string;
  rating: Rating;
}

// ---------------------------------------------------------------- a citizen's cases

export type CaseState =
  | "submitted"
  | "accepted"
  | "supplement_requested"
  | "approved"
  | "denied"
  | "completed"
  | "withdrawn"
  | "rejected"
  | "not_supplemented";
export type Signal = "green" | "yellow" | "red";
export type CaseAction =
  | "accept"
  | "approve"
  | "deny"
  | "reject"
  | "request_supplement"
  | "withdraw"
  | "supplement"
  | "request_extension"
  | "decide_extension"
  | "suspend"
  | "end_suspension"
  | "pay"
  | "reship_materials"
  | "bring_to_window"
  | "redeliver_result"
  | "collect_at_window"
  | "hand_over";
export type RedeliveryChoice = "reship_materials" | "bring_to_window" | "redeliver_result" | "collect_at_window";

/** Principal: whom an agent applies for. */
export interface Principal {
  kind: "enterprise" | "person";
  /** enterprise only */
  uscc?: string;
  /** person only */
  user_id?: string;
}

/** MaskedPrincipal: whom a case is for, as the case shows it. */
export interface MaskedPrincipal {
  kind: "enterprise" | "person";
  name: string | null;
  uscc?: string;
  user_id?: string;
  id_number?: string;
}

/** AddressBody: an EMS address the applicant gives. */
export interface AddressBody {
  name: string;
  phone: string;
  province: string;
  city: string;
  district: string;
  street: string;
  postcode: string;
}

/** Address: an address as a case shows it. */
export interface Address {
  name: string;
  phone: string;
  province: string;
  city: string;
  district: string;
  street: string;
  postcode: string | null;
}

/** MaterialRef: one material handed in (or an electronic licence reused as one). */
export interface MaterialRef {
  name?: string;
  licence_no?: string;
  file_id?: string;
  copies?: number;
  original?: boolean;
  note?: string;
}

/** DeliveryBody. */
export interface DeliveryBody {
  mode: HandlingMode;
  address?: AddressBody | null;
}

/** SubmitApplicationBody: POST /api/v1/applications. */
export interface SubmitApplicationBody {
  item_id: string;
  on_behalf_of?: Principal | null;
  form?: Record<string, unknown>;
  materials?: MaterialRef[];
  delivery: DeliveryBody;
}

/** Submitted. */
export interface Submitted {
  application_id: string;
  state: CaseState;
  due_date: string;
}

/** DepartmentReview: each department's decision on a case. */
export interface DepartmentReview {
  department_code: string;
  decision: "pending" | "approved" | "denied";
}

/** DepartmentTask. */
export interface DepartmentTask {
  step: string;
  role: string;
  due_date: string;
  signal: Signal;
}

/** WorkItem: one row of my cases. */
export interface WorkItem {
  application_id: string;
  item_id: string;
  item_name: string;
  department_code: string;
  region_code: string;
  store_id: string;
  applicant_id: string;
  state: CaseState;
  due_date: string;
  submitted_at: string;
  delivery_mode: HandlingMode;
  licence_no: string | null;
  overdue: boolean;
  reviews: DepartmentReview[];
  legal_due_date: string;
  process_version: number;
  signal: Signal | null;
  calendar_provisional: boolean;
  task: DepartmentTask | null;
}

/** Material: one material of a case. */
export interface Material {
  name: string;
  licence_no?: string;
  licence?: ReusedLicence;
  file_id?: string;
  copies?: number;
  original?: boolean;
  note?: string;
}

/** ReusedLicence. */
export interface ReusedLicence {
  licence_no: string;
  licence_type_code: string | null;
  name: string;
  holder_id: string;
  valid_to: string | null;
}

/** Delivery. */
export interface Delivery {
  mode: HandlingMode;
  address: Address | null;
}

/** Window: where the case is handled. */
export interface Window {
  name: string;
  address: string;
  phone: string;
  postcode: string;
}

export type StepState = "pending" | "active" | "done" | "denied" | "not_needed" | "closed";

/** StepBranch: one department's part of a parallel step. */
export interface StepBranch {
  department_code: string;
  role: string;
  state: StepState;
  due_date: string | null;
  signal: Signal | null;
  decided_by: string | null;
  comment: string | null;
}

/** AutoOutcome. */
export interface AutoOutcome {
  outcome: "approved" | "denied" | "unavailable";
  failures: string[];
  source?: string;
}

/** EvidenceOutcome. */
export interface EvidenceOutcome {
  outcome: "covered" | "not_covered" | "unavailable";
  reason: string;
}

/** CoveredBy. */
export interface CoveredBy {
  kind: "assessment" | "licence";
  id: string;
  title: string;
}

/** Step: one step of a case's process. */
export interface Step {
  id: string;
  kind: "accept" | "review" | "approve" | "parallel" | "auto" | "assessment" | "licence" | "payment";
  state: StepState;
  department_code: string | null;
  role: string | null;
  days: number;
  started_on: string | null;
  due_date: string | null;
  finished_at: string | null;
  signal: Signal | null;
  join: "all" | "any" | { at_least: number } | null;
  branches: StepBranch[];
  decided_by: string | null;
  comment: string | null;
  auto: AutoOutcome | null;
  evidence: EvidenceOutcome | null;
  covered_by: CoveredBy | null;
}

/** AvailableAction: what may be done now, and by whom the gateway's token says. */
export interface AvailableAction {
  action: CaseAction;
  step: string | null;
}

/** ClockState. */
export interface ClockState {
  running: boolean;
  stopped_on: string | null;
  stopped_for: "supplement" | "suspension" | "payment" | "delivery" | null;
}

/** ExtensionView. */
export interface ExtensionView {
  extension_id: string;
  working_days: number;
  reason: string;
  state: "requested" | "approved" | "refused";
  requested_by: string;
  requested_at: string;
  decided_by: string | null;
  decided_at: string | null;
  comment: string;
}

/** SuspensionView. */
export interface SuspensionView {
  suspension_id: string;
  kind: "hearing" | "inspection" | "testing" | "expert_review" | "tender" | "other";
  reason: string;
  started_by: string;
  started_at: string;
  ended_by: string | null;
  ended_at: string | null;
  result: string;
  working_days: number | null;
}

/** EscalationView. */
export interface EscalationView {
  escalation_id: string;
  step_id: string;
  department_code: string;
  level: "dept_admin" | "operator";
  raised_at: string;
  due_date: string;
  resolved_at: string | null;
}

/** TimelineEntry. */
export interface TimelineEntry {
  at: string;
  state: CaseState;
  action: string;
  actor_id: string | null;
  actor_role: "window_clerk" | "approver" | "applicant" | "system" | "dept_admin";
  comment: string;
  step: string | null;
  on_behalf_of: MaskedPrincipal | null;
}

/** Fee: one charge of a case. */
export interface Fee {
  name: string;
  amount_fen: number;
  standard: string;
  legal_basis: string;
  waivable: boolean;
}

/** FeeWaiverApplied. */
export interface FeeWaiverApplied {
  description: string;
  waived_fen: number;
}

export type PaymentState =
  | "ordering"
  | "pending"
  | "paid"
  | "waived"
  | "cancelling"
  | "cancelled"
  | "refunding"
  | "refunded";

/** PaymentView: the case's fees and where to pay them. */
export interface PaymentView {
  state: PaymentState;
  amount_fen: number;
  fees: Fee[];
  waiver: FeeWaiverApplied | null;
  order_id: string | null;
  /** the cashier's page */
  pay_url: string | null;
  due_on: string;
  paid_at: string | null;
  refunded_at: string | null;
}

/** ShipmentFailure: the last failed EMS shipment. */
export interface ShipmentFailure {
  direction: "materials" | "result";
  reason: string;
  tracking_no: string | null;
  description: string;
  failed_at: string;
  attempt: number;
  choice: RedeliveryChoice | null;
}

/** Application: a case with its steps and timeline. */
export interface Application {
  application_id: string;
  item_id: string;
  item_name: string;
  department_code: string;
  region_code: string;
  store_id: string;
  applicant_id: string;
  state: CaseState;
  due_date: string;
  submitted_at: string;
  delivery_mode: HandlingMode;
  licence_no: string | null;
  overdue: boolean;
  reviews: DepartmentReview[];
  legal_due_date: string;
  process_version: number;
  signal: Signal | null;
  calendar_provisional: boolean;
  joint_departments: string[];
  on_behalf_of: MaskedPrincipal | null;
  mandate_id: string | null;
  form: Record<string, unknown>;
  materials: Material[];
  delivery: Delivery;
  window: Window | null;
  steps: Step[];
  available_actions: AvailableAction[];
  clock: ClockState;
  missing_materials: string[];
  supplement_due: string | null;
  extensions: ExtensionView[];
  suspensions: SuspensionView[];
  escalations: EscalationView[];
  timeline: TimelineEntry[];
  payment: PaymentView | null;
  shipment_failure: ShipmentFailure | null;
}

/** WaybillAddress. */
export interface WaybillAddress {
  name: string;
  phone: string;
  province: string;
  city: string;
  district: string;
  street: string;
  postcode: string;
}

export type ShipmentStatus =
  | "pending"
  | "created"
  | "accepted"
  | "picked_up"
  | "in_transit"
  | "out_for_delivery"
  | "delivered"
  | "failed";

/** ShipmentSummary: one EMS shipment of a case. */
export interface ShipmentSummary {
  shipment_id: string;
  tracking_no: string | null;
  application_id: string;
  direction: "materials" | "result";
  attempt: number;
  status: ShipmentStatus;
  sender: WaybillAddress;
  recipient: WaybillAddress;
  created_at: string;
}

/** RedeliveryBody. */
export interface RedeliveryBody {
  choice: RedeliveryChoice;
  address?: AddressBody | null;
}

/** OnlineIndicators: the sub-grades of a review, 1..5 each. */
export interface OnlineIndicators {
  overall?: number;
  efficiency?: number;
  guide_accuracy?: number;
  convenience?: number;
  usability?: number;
}

/** SubmitReviewBody: 一事一评. */
export interface SubmitReviewBody {
  grade: number;
  comment?: string;
  channel?: "web" | "app";
  indicators?: OnlineIndicators | null;
}

/** ReviewId. */
export interface ReviewId {
  review_id: string;
}

// ---------------------------------------------------------------- licences

/** Licence: one row of my licences. */
export interface Licence {
  licence_no: string;
  application_id: string;
  item_id: string;
  item_name: string;
  holder_masked: string;
  issued_at: string;
  valid: boolean;
  licence_type_code: string | null;
  valid_from: string | null;
  valid_to: string | null;
  revoked_at: string | null;
}

/** LicenceSignature. */
export interface LicenceSignature {
  alg: string;
  kid: string;
  value: string;
}

/** LicenceDocument: the signed licence. */
export interface LicenceDocument {
  licence: Record<string, unknown>;
  signature: LicenceSignature;
}

/** LicenceView: a licence with its QR payload (the public verify URL). */
export interface LicenceView {
  licence_no: string;
  document: LicenceDocument;
  qr_payload: string;
  valid: boolean;
  revoked_at: string | null;
  revocation_reason: string | null;
}

/** LicenceChecks. */
export interface LicenceChecks {
  signature: "valid" | "invalid" | "unknown_key";
  register: "found" | "unknown" | "differs";
  period: "current" | "not_yet_valid" | "expired" | "unknown";
  revocation: "not_revoked" | "revoked" | "unknown";
}

/** LicenceTypeRef. */
export interface LicenceTypeRef {
  code: string;
  name: string;
}

/** LicenceCheck: the public verification of a licence number. */
export interface LicenceCheck {
  licence_no: string;
  valid: boolean;
  failed: ("signature" | "register" | "period" | "revocation")[];
  checks: LicenceChecks;
  holder_masked: string | null;
  item_name: string | null;
  licence_type: LicenceTypeRef | null;
  issuer_uscc: string | null;
  issued_at: string | null;
  valid_from: string | null;
  valid_to: string | null;
  revoked_at: string | null;
  revocation_reason: string | null;
}

// ---------------------------------------------------------------- whom I may act for

/** IdentityPrincipal. */
export interface IdentityPrincipal {
  kind: "enterprise" | "person";
  uscc?: string;
  user_id?: string;
  name: string;
}

/** Mandate: 代办授权. */
export interface Mandate {
  mandate_id: string;
  principal: IdentityPrincipal;
  agent_user_id: string;
  agent_name: string;
  /** [] for every item */
  item_ids: string[];
  expires_on: string;
  granted_at: string;
  revoked_at: string | null;
  status: "active" | "expired" | "revoked";
}

/** StepDefinition: one step of an item's process as published. */
export interface StepDefinition {
  id: string;
  kind: Step["kind"];
  role?: "window_clerk" | "approver";
  department_code?: string;
  days?: number;
  join?: "all" | "any" | { at_least: number };
  branches?: Branch[];
  rules?: Record<string, unknown>;
  fallback?: Branch;
  assessment_kind?: string;
  licence_type?: string;
}

/** Branch. */
export interface Branch {
  department_code?: string;
  role: "window_clerk" | "approver";
  days: number;
}

/** Definition. */
export interface Definition {
  steps: StepDefinition[];
  supplement_days?: number;
  extension_days?: number;
}

/** ProcessVersion: GET /api/v1/items/{item_id}/process. */
export interface ProcessVersion {
  item_id: string;
  version: number;
  definition: Definition;
}

/** TrackingEntry: one event EMS reported. */
export interface TrackingEntry {
  status: "accepted" | "picked_up" | "in_transit" | "out_for_delivery" | "delivered" | "failed";
  occurred_at: string;
  /** "" when EMS named none */
  location: string;
  /** "" when EMS gave none */
  description: string;
}

/** Shipment: one EMS shipment with its tracking events, oldest first. */
export interface Shipment {
  shipment_id: string;
  tracking_no: string | null;
  application_id: string;
  direction: "materials" | "result";
  attempt: number;
  status: ShipmentStatus;
  sender: WaybillAddress;
  recipient: WaybillAddress;
  created_at: string;
  tracking: TrackingEntry[];
}

// ------------------------------------------------------------ staff: cases

export type StaffRole = "window_clerk" | "approver" | "dept_admin" | "agent";
export type StaffAction = "accept" | "approve" | "deny" | "reject" | "request_supplement";

/** ActBody: a window clerk's or an approver's decision at a step. */
export interface ActBody {
  action: StaffAction;
  comment?: string;
  step?: string;
  missing_materials?: string[];
}

/** ExtensionBody: more working days asked for (延期). */
export interface ExtensionBody {
  working_days: number;
  reason: string;
}

/** ExtensionDecisionBody: the department admin's answer to a waiting extension. */
export interface ExtensionDecisionBody {
  approve: boolean;
  comment?: string;
}

export type SuspensionKind = "hearing" | "inspection" | "testing" | "expert_review" | "tender" | "other";

/** SuspensionBody: a special procedure begins (特别程序). */
export interface SuspensionBody {
  kind: SuspensionKind;
  reason: string;
}

/** SuspensionStarted. */
export interface SuspensionStarted {
  suspension_id: string;
  application: Application;
}

/** EndSuspensionBody. */
export interface EndSuspensionBody {
  result: string;
}

/** HandOverBody: the result handed over at the window after a failed delivery. */
export interface HandOverBody {
  comment?: string;
}

/** PrincipalIdentity: the person a case was applied for, ID number in full. */
export interface PrincipalIdentity {
  application_id: string;
  kind: "person";
  user_id: string | null;
  name: string | null;
  id_number: string | null;
}

/** EscalationEntry: one open escalation of late work (督办). */
export interface EscalationEntry {
  application_id: string;
  item_name: string;
  step_id: string;
  department_code: string;
  level: EscalationLevel;
  raised_at: string;
  due_date: string;
  signal: Signal;
}

export type EscalationLevel = "dept_admin" | "operator";

// ------------------------------------------------------------ rectifications

export type RectificationState = "awaiting_verification" | "verified" | "resolved" | "closed" | "closed_for_appeal";
export type RectificationDecision = "immediate" | "deadline" | "explain";
export type RectificationOutcome = "satisfied" | "closed_after_reopen" | "unreachable" | "appeal_upheld";

/** ReturnVisitEntry: one call back to the citizen (回访). */
export interface ReturnVisitEntry {
  round: number;
  reached: boolean;
  satisfied: boolean | null;
  comment: string;
  recorded_at: string;
}

/** RectificationEscalation: late rectification work brought to a level. */
export interface RectificationEscalation {
  level: EscalationLevel;
  round: number;
  due_date: string;
  escalated_at: string;
}

/** Rectification: the handling of one bad review (整改). */
export interface Rectification {
  rectification_id: string;
  review_id: string;
  application_id: string | null;
  visit_id: string | null;
  department_code: string;
  grade: number;
  review_comment: string;
  item_id: string;
  item_name: string;
  store_id: string;
  submitted_at: string;
  state: RectificationState;
  round: number;
  opened_at: string;
  verify_due: string;
  decision: RectificationDecision | null;
  plan: string | null;
  working_days: number | null;
  due_date: string | null;
  verified_at: string | null;
  verified_by: string | null;
  resolved_at: string | null;
  resolved_by: string | null;
  resolution_comment: string | null;
  overdue: boolean;
  return_visits: ReturnVisitEntry[];
  escalations: RectificationEscalation[];
  closed_at: string | null;
  outcome: RectificationOutcome | null;
}

/** VerifyBody: 核实 within a working day. */
export interface VerifyBody {
  decision: RectificationDecision;
  plan: string;
  working_days?: number | null;
}

/** ResolveBody: how the bad review was rectified. */
export interface ResolveBody {
  comment?: string | null;
}

/** ReturnVisitBody: the call back (回访). */
export interface ReturnVisitBody {
  reached: boolean;
  satisfied?: boolean | null;
  comment?: string;
}

// ------------------------------------------------------------ operators: figures

/** Indicators: the published indicators of 好差评. */
export interface Indicators {
  reviews: number;
  praise_rate: number | null;
  average_grade: number | null;
  evaluable: number;
  praise: number;
  bad: number;
  rectified: number;
  real_name_bad: number;
  called_back: number;
  evaluation_rate: number | null;
  bad_rate: number | null;
  rectification_rate: number | null;
  callback_rate: number | null;
  sub_grades: Record<string, number>;
}

/** EscalationCounts. */
export interface EscalationCounts {
  dept_admin: number;
  operator: number;
}

/** StoreRating. */
export interface StoreRating {
  store_id: string;
  rating: Indicators;
}

/** DepartmentRating. */
export interface DepartmentRating {
  department_code: string;
  rating: Indicators;
  escalations: EscalationCounts | null;
}

/** RegionRating. */
export interface RegionRating {
  region_code: string;
  rating: Indicators;
}

/** ItemRating. */
export interface ItemRating {
  item_id: string;
  item_name: string;
  rating: Indicators;
}

/** RatingStats: GET /api/v1/stats/ratings. */
export interface RatingStats {
  store: string | null;
  department: string | null;
  region: string | null;
  item: string | null;
  from: string | null;
  to: string | null;
  overall: Indicators;
  escalations: EscalationCounts | null;
  stores: StoreRating[];
  departments: DepartmentRating[];
  items: ItemRating[];
  regions: RegionRating[];
}

/** LevelCounts: the catalogue's counts of one level. */
export interface LevelCounts {
  published: number;
  online: number;
  online_rate: number | null;
  implemented: number;
  deviating: number;
}

/** CountsByLevel. */
export interface CountsByLevel {
  province: LevelCounts;
  city: LevelCounts;
  county: LevelCounts;
}

/** RegionCounts: the catalogue's counts of one region. */
export interface RegionCounts {
  published: number;
  online: number;
  online_rate: number | null;
  implemented: number;
  deviating: number;
  region_code: string;
  name: string | null;
  level: Level | null;
  implementation_rate: number | null;
}

/** CatalogStats: the catalogue's consistency report (三级四同). */
export interface CatalogStats {
  published: number;
  online: number;
  online_rate: number | null;
  implemented: number;
  deviating: number;
  basic_items: number;
  by_level: CountsByLevel;
  by_region: RegionCounts[];
}

// ------------------------------------------------------------ operators: OpenID Connect clients

export type TokenEndpointAuthMethod = "client_secret_basic" | "private_key_jwt" | "none";

/** OidcClient: a department system registered at the provider. */
export interface OidcClient {
  client_id: string;
  name: string;
  department_code: string;
  redirect_uris: string[];
  post_logout_redirect_uris: string[];
  backchannel_logout_uri: string | null;
  jwks: Record<string, unknown> | null;
  token_endpoint_auth_method: TokenEndpointAuthMethod;
  skip_consent: boolean;
  created_at: string;
  updated_at: string;
}

/** OidcClientSecret: a registration with its secret, answered once. */
export interface OidcClientSecret extends OidcClient {
  client_secret: string | null;
}

/** OidcClientBody: register or change a department system. */
export interface OidcClientBody {
  name: string;
  department_code: string;
  redirect_uris: string[];
  post_logout_redirect_uris?: string[];
  backchannel_logout_uri?: string | null;
  jwks?: Record<string, unknown> | null;
  public?: boolean;
  skip_consent?: boolean;
}
