// The public catalogue: regions, departments, service items and flagship stores.
// None of these needs a token; the gateway answers them from its cache.

import type { ApiClient } from "./client";
import type { Page, PageRequest } from "./paging";
import type {
  DepartmentList,
  HandlingMode,
  ItemGuide,
  ItemSummary,
  ItemType,
  Level,
  RegionList,
  Served,
  Store,
  StoreKind,
} from "./types";

/** Filters of GET /api/v1/items; every one optional. */
export interface ItemSearch extends PageRequest {
  /** Words of the name, pinyin initials, a common word, a code's beginning. */
  q?: string;
  /** A region code; a city includes its counties, the province everything. */
  region?: string;
  department?: string;
  level?: Level;
  type?: ItemType;
  mode?: HandlingMode;
  serves?: Served;
}

export interface StoreSearch extends PageRequest {
  kind?: StoreKind;
  /** A region code; a city includes its counties. */
  region?: string;
}

type Signal = { signal?: AbortSignal };

export function listRegions(api: ApiClient, options: Signal = {}): Promise<RegionList> {
  return api.get<RegionList>("/regions", options);
}

/** Departments, only those seated in `region` when given. */
export function listDepartments(
  api: ApiClient,
  region?: string,
  options: Signal = {},
): Promise<DepartmentList> {
  return api.get<DepartmentList>("/departments", { ...options, query: { region } });
}

export function searchItems(
  api: ApiClient,
  search: ItemSearch,
  options: Signal = {},
): Promise<Page<ItemSummary>> {
  return api.get<Page<ItemSummary>>("/items", { ...options, query: { ...search } });
}

export function getItem(api: ApiClient, itemId: string, options: Signal = {}): Promise<ItemGuide> {
  return api.get<ItemGuide>(`/items/${encodeURIComponent(itemId)}`, options);
}

export function listStores(
  api: ApiClient,
  search: StoreSearch = {},
  options: Signal = {},
): Promise<Page<Store>> {
  return api.get<Page<Store>>("/stores", { ...options, query: { ...search } });
}

export function getStore(api: ApiClient, storeId: string, options: Signal = {}): Promise<Store> {
  return api.get<Store>(`/stores/${encodeURIComponent(storeId)}`, options);
}
