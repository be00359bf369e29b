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
