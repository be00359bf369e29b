// A paged list whose filters and page live in the route's query: the filters
// read from the URL (unknown values dropped), a form's choices kept in step
// with them, the query of any page, and the list read again whenever they
// change, after which the reader starts at `focus()` again.

import { computed, nextTick, reactive, watch, type ComputedRef, type Ref } from "vue";
import { useRoute, useRouter, type LocationQueryRaw, type RouteLocationRaw } from "vue-router";

import { parsePageNumber, type Page } from "@/api";
import { useResource, type Resource } from "@/resource";

/**
 * Each filter's name in the URL and the values it may take: a list, or for
 * free text (keywords, a region's code) a function that cleans the URL's text
 * and gives undefined for what is to be dropped.
 */
export type FilterValuesSpec = readonly string[] | ((raw: string) => string | undefined);
export type FilterSpec = Record<string, FilterValuesSpec>;
/** The value a filter may take. */
export type FilterValue<A extends FilterValuesSpec> = A extends readonly (infer V extends string)[] ? V : string;
export type FilterValues<S extends FilterSpec> = { -readonly [K in keyof S]: FilterValue<S[K]> | undefined };
export type FilterChoices<S extends FilterSpec> = { -readonly [K in keyof S]: FilterValue<S[K]> | "" };

/** A free-text filter: any text but none, cut to `maxLength`. */
export function textFilter(maxLength = Infinity): (raw: string) => string | undefined {
  return (raw) => raw.trim().slice(0, maxLength) || undefined;
}

export interface PagedQueryOptions<S extends FilterSpec, T> {
  /** The route the list is on. */
  name: string;
  filters: S;
  /** A filter's value that is left out of the URL (the form shows it when none is given). */
  defaults?: Partial<{ [K in keyof S]: FilterValue<S[K]> }>;
  fetch: (query: FilterValues<S> & { page: number }, signal: AbortSignal) => Promise<Page<T>>;
  /** Where the reader starts after filtering or paging. */
  focus: () => HTMLElement | null;
}

/** What PagedResults shows: the page read, how the read went, and where each page lives. */
export interface PagedList<T> {
  data: Ref<Page<T> | null>;
  loading: Ref<boolean>;
  error: Ref<unknown>;
  load: () => Promise<void>;
  /** The page the URL asks for. */
  page: ComputedRef<number>;
  linkTo: (page: number) => RouteLocationRaw;
}

export interface PagedQuery<S extends FilterSpec, T> extends Resource<Page<T>>, PagedList<T> {
  query: ComputedRef<FilterValues<S> & { page: number }>;
  choices: FilterChoices<S>;
  queryOf: (page: number) => LocationQueryRaw;
  /** Puts the form's choices into the URL (page 1); the same search again is read again. */
  apply: () => void;
  /** Drops every filter. */
  clear: () => void;
}

function one(value: unknown, allowed: FilterValuesSpec): string | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  if (typeof raw !== "string") return undefined;
  return typeof allowed === "function" ? allowed(raw) : allowed.includes(raw) ? raw : undefined;
}

function sameQuery(a: LocationQueryRaw, b: LocationQueryRaw): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => b[key] === a[key]);
}

export function usePagedQuery<S extends FilterSpec, T>(options: PagedQueryOptions<S, T>): PagedQuery<S, T> {
  const route = useRoute();
  const router = useRouter();
  const names = Object.keys(options.filters) as (keyof S & string)[];
  const defaults: Partial<Record<string, string>> = options.defaults ?? {};

  // Leaving for another page changes the route's query too; that is no new
  // search, so the list keeps the query of its own route.
  let ownQuery = route.query;
  const routeQuery = computed(() => {
    if (route.name === options.name) ownQuery = route.query;
    return ownQuery;
  });

  const query = computed(() => {
    const raw = routeQuery.value;
    const values = {} as FilterValues<S>;
    for (const name of names) values[name] = one(raw[name], options.filters[name]!) as FilterValue<S[typeof name]>;
    return { ...values, page: parsePageNumber(raw.page) };
  });

  const choices = reactive({}) as FilterChoices<S>;
  watch(
    query,
    (values) => {
      for (const name of names) choices[name] = (values[name] ?? defaults[name] ?? "") as FilterValue<S[typeof name]>;
    },
    { immediate: true },
  );

  function toQuery(values: Partial<Record<string, string | undefined>>, page: number): LocationQueryRaw {
    const result: LocationQueryRaw = {};
    for (const name of names) {
      const value = values[name];
      if (value && value !== defaults[name]) result[name] = value;
    }
    if (page > 1) result.page = String(page);
    return result;
  }

  const resource = useResource((signal) => options.fetch(query.value, signal), () => JSON.stringify(query.value), {
    afterChange: () => nextTick(() => options.focus()?.focus()),
  });

  return {
    ...resource,
    query,
    choices,
    page: computed(() => query.value.page),
    queryOf: (page) => toQuery(query.value, page),
    linkTo: (page) => ({ name: options.name, query: toQuery(query.value, page) }),
    apply: () => {
      const next = toQuery(choices, 1);
      // The search shown, asked for again: the URL stays, the list is read again.
      if (sameQuery(next, toQuery(query.value, query.value.page))) void resource.load();
      else void router.push({ name: options.name, query: next });
    },
    clear: () => void router.push({ name: options.name }),
  };
}
