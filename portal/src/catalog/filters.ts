// The catalogue search as the URL carries it (?q=&region=&department=&level=
// &mode=&page=), so a search can be bookmarked, shared and gone back to.

import type { LocationQuery, LocationQueryRaw } from "vue-router";

import type { HandlingMode, Level } from "@/api";
import type { ItemSearch } from "@/api/catalog";
import { parsePageNumber } from "@/api/paging";

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

function first(value: LocationQuery[string] | undefined): string {
  const raw = Array.isArray(value) ? value[0] : value;
  return typeof raw === "string" ? raw : "";
}

function oneOf<T extends string>(value: string, allowed: readonly T[]): T | "" {
  return (allowed as readonly string[]).includes(value) ? (value as T) : "";
}

/** Filters and page from a route's query; unknown values are dropped. */
export function filtersFromQuery(query: LocationQuery): { filters: ItemFilters; page: number } {
  return {
    filters: {
      q: first(query.q).slice(0, KEYWORD_MAX_LENGTH),
      region: first(query.region),
      department: first(query.department),
      level: oneOf(first(query.level), LEVELS),
      mode: oneOf(first(query.mode), MODES),
    },
    page: parsePageNumber(query.page),
  };
}

/** The query of a search: only the filters that are set, page when above 1. */
export function queryFromFilters(filters: ItemFilters, page = 1): LocationQueryRaw {
  const query: LocationQueryRaw = {};
  const q = filters.q.trim();
  if (q) query.q = q;
  if (filters.region) query.region = filters.region;
  if (filters.department) query.department = filters.department;
  if (filters.level) query.level = filters.level;
  if (filters.mode) query.mode = filters.mode;
  if (page > 1) query.page = String(page);
  return query;
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
