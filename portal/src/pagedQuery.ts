// A paged list whose filters and page live in the route's query: the filters
// read from the URL (unknown values dropped), a form's choices kept in step
// with them, the query of any page, and the list read again whenever they
// change, after which the reader starts at `focus()` again.

import { computed, nextTick, reactive, watch, type ComputedRef, type Ref } from "vue";
import { useRoute, useRouter, type LocationQueryRaw, type RouteLocationRaw } from "vue-router";

import { parsePageNumber, type Page } from "@/api";
import { useResource, type Resource } from "@/resource";

/** Each filter's name in the URL and the values it may take. */
export type FilterSpec = Record<string, readonly string[]>;
export type FilterValues<S extends FilterSpec> = { -readonly [K in keyof S]: S[K][number] | undefined };
export type FilterChoices<S extends FilterSpec> = { -readonly [K in keyof S]: S[K][number] | "" };

export interface PagedQueryOptions<S extends FilterSpec, T> {
  /** The route the list is on. */
  name: string;
  filters: S;
  /** A filter's value that is left out of the URL (the form shows it when none is given). */
  defaults?: Partial<{ [K in keyof S]: S[K][number] }>;
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
  /** Puts the form's choices into the URL (page 1). */
  apply: () => void;
  /** Drops every filter. */
  clear: () => void;
}

function one(value: unknown, allowed: readonly string[]): string | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  return typeof raw === "string" && allowed.includes(raw) ? raw : undefined;
}

export function usePagedQuery<S extends FilterSpec, T>(options: PagedQueryOptions<S, T>): PagedQuery<S, T> {
  const route = useRoute();
  const router = useRouter();
  const names = Object.keys(options.filters) as (keyof S & string)[];
  const defaults: Partial<Record<string, string>> = options.defaults ?? {};

  const query = computed(() => {
    const values = {} as FilterValues<S>;
    for (const name of names) values[name] = one(route.query[name], options.filters[name]!) as S[typeof name][number];
    return { ...values, page: parsePageNumber(route.query.page) };
  });

  const choices = reactive({}) as FilterChoices<S>;
  watch(
    query,
    (values) => {
      for (const name of names) choices[name] = (values[name] ?? defaults[name] ?? "") as S[typeof name][number];
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
    apply: () => void router.push({ name: options.name, query: toQuery(choices, 1) }),
    clear: () => void router.push({ name: options.name }),
  };
}
