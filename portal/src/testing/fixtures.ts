// Catalogue answers shaped as the gateway's schemas, after the demo catalogue.

import type { Department, ItemGuide, ItemSummary, Region, Store } from "@/api";

export const regions: Region[] = [
  { code: "320000", name: "江苏省", level: "province", parent_code: null },
  { code: "320100", name: "南京市", level: "city", parent_code: "320000" },
  { code: "320102", name: "玄武区", level: "county", parent_code: "320100" },
  { code: "320104", name: "秦淮区", level: "county", parent_code: "320100" },
  { code: "320200", name: "无锡市", level: "city", parent_code: "320000" },
  { code: "320205", name: "锡山区", level: "county", parent_code: "320200" },
];

function department(code: string, name: string, region_code: string, level: Department["level"]): Department {
  return { code, name, region_code, level, store_id: `store-${code}`, kind: "department", uscc: null };
}

export const departmentsByRegion: Record<string, Department[]> = {
  "320000": [
    department("js-amr", "江苏省市场监督管理局", "320000", "province"),
    department("js-ga", "江苏省公安厅", "320000", "province"),
  ],
  "320100": [department("nj-amr", "南京市市场监督管理局", "320100", "city")],
  "320102": [department("xw-amr", "玄武区市场监督管理局", "320102", "county")],
};

export const itemSummary: ItemSummary = {
  item_id: "item-1",
  code: "320000-JSSCJG-001",
  name: "食品生产许可证核发（保健食品）",
  name_en: "Food production licence (health foods)",
  department_code: "js-amr",
  department_name: "江苏省市场监督管理局",
  region_code: "320000",
  level: "province",
  modes: ["online", "express", "window"],
  promised_days: 10,
  status: "published",
  transferred_from: null,
  fees: [],
  licence_type: { code: "SPSCXK", name: "食品生产许可证", valid_years: 5 },
  basic_code: "000117001000",
  implementing_code: null,
  type: "01",
  case_type: "promised",
  serves: ["legal_person"],
  visits: 1,
  online_depth: 3,
};

export const itemGuide: ItemGuide = {
  ...itemSummary,
  description: "对在江苏省行政区域内从事保健食品生产活动的企业核发食品生产许可证。",
  conditions: ["申请人已取得营业执照等合法主体资格"],
  materials: [
    {
      name: "食品生产许可申请书",
      copies: 1,
      original: true,
      note: "",
      necessity: "required",
      source: "applicant",
      paper_size: "A4",
      acceptance_standard: "原件与复印件一致，内容完整、清晰",
      blank_form: "https://zwfw.example.gov.cn/forms/blank.pdf",
      sample: "javascript:alert(1)",
    },
  ],
  fees: [{ name: "工本费", amount_fen: 1250, standard: "", legal_basis: "", waivable: true }],
  fee_waiver: null,
  issuer_uscc: null,
  legal_basis: [{ law: "《中华人民共和国食品安全法》", article: "第三十五条" }],
  statutory_days: 20,
  joint_departments: [],
  window: { name: "江苏省政务服务中心市场监管窗口", address: "南京市建邺区江东中路311号", phone: "025-83330012", postcode: "210019" },
  handled_by: "workflow",
  store_id: "store-js-amr",
  limit_unit: "working_days",
  limit_note: "不含现场核查时间",
  process_summary: "申请—受理—审查—决定—送达",
  place: "江苏省政务服务中心二楼",
  hours: "周一至周五 9:00—17:00",
  consultation_phone: "025-83330012",
  complaint_phone: "12345",
  revision: 3,
};

export const store: Store = {
  store_id: "store-js-amr",
  name: "江苏省市场监督管理局旗舰店",
  kind: "department",
  department_code: "js-amr",
  region_code: "320000",
  rating: { reviews: 3, praise_rate: 0.6667, average_grade: 4.25 },
};
