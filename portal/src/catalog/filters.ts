// The catalogue search as the URL carries it (?q=&region=&department=&level=
// &mode=&page=), so a search can be bookmarked, shared and gone back to.

import type { HandlingMode, Level } from "@/api";
import type { ItemSearch } from "@/api/catalog";
import { textFilter, type FilterValues } from "@/pagedQuery";

export const KEYWORD_MAX_LENGTH = 100;
export const LEVELS: readonly Level[] = ["province", "city", "county"];
export const MODES: readonly HandlingMode[] = ["online", "express", "window"];

/** Ids of the search form's inputs by the API's field names (ErrorPresenter links to them). */
export const SEARCH_FIELD_IDS = {
  q: "search-q",
  region: "search-city",
  county: "search-county",
  department: "search-department",
  level: "search-level",
  mode: "search-mode",
} as const;

/** Filters of the search form; "" means "any". */
export interface ItemFilters {
  q: string;
  region: string;
  department: string;
  level: Level | "";
  mode: HandlingMode | "";
}

export function emptyFilters(): ItemFilters {
  return { q: "", region: "", department: "", level: "", mode: "" };
}

/** The search's filters as the URL carries them; anything else there is dropped. */
export const ITEM_FILTERS = {
  q: textFilter(KEYWORD_MAX_LENGTH),
  region: textFilter(),
  department: textFilter(),
  level: LEVELS,
  mode: MODES,
} as const;

/** The form's filters from the URL's. */
export function filtersOf(values: FilterValues<typeof ITEM_FILTERS>): ItemFilters {
  return {
    q: values.q ?? "",
    region: values.region ?? "",
    department: values.department ?? "",
    level: values.level ?? "",
    mode: values.mode ?? "",
  };
}

/** The request to GET /api/v1/items. */
export function searchRequest(filters: ItemFilters, page: number, pageSize: number): ItemSearch {
  const search: ItemSearch = { page, page_size: pageSize };
  const q = filters.q.trim();
  if (q) search.q = q;
  if (filters.region) search.region = filters.region;
  if (filters.department) search.department = filters.department;
  if (filters.level) search.level = filters.level;
  if (filters.mode) search.mode = filters.mode;
  return search;
}
