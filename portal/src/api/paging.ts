// Lists are paged by `page` (from 1) and `page_size` (1..100, 20 when absent);
// each page says its total, so the number of pages follows.

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;
/** The gateway refuses a page number above this. */
export const MAX_PAGE = 10000;

export interface Page<T> {
  items: T[];
  page: number;
  page_size: number;
  total: number;
}

export interface PageRequest {
  page?: number;
  page_size?: number;
}

/** Number of pages of `total` rows; 0 when there are none. */
export function pageCount(page: Pick<Page<unknown>, "total" | "page_size">): number {
  if (page.total <= 0 || page.page_size <= 0) return 0;
  return Math.min(Math.ceil(page.total / page.page_size), MAX_PAGE);
}

/** 1-based positions of the first and last row of `page`; [0, 0] when empty. */
export function rowRange(page: Page<unknown>): [number, number] {
  if (page.items.length === 0) return [0, 0];
  const first = (page.page - 1) * page.page_size + 1;
  return [first, first + page.items.length - 1];
}

/**
 * A page number read from user input (a URL's query): a whole number from 1 to
 * MAX_PAGE, otherwise 1.
 */
export function parsePageNumber(value: unknown): number {
  const raw = Array.isArray(value) ? value[0] : value;
  if (typeof raw !== "string" && typeof raw !== "number") return 1;
  const n = Number(raw);
  return Number.isInteger(n) && n >= 1 && n <= MAX_PAGE ? n : 1;
}
