// A small fetch wrapper for the gateway's /api/v1: JSON in and out, the bearer
// token when there is one, a correlation id on every request, and every failure
// turned into one typed ApiError.

import type { ErrorDetail } from "./types";

export const REQUEST_ID_HEADER = "X-Request-Id";

/** Status of an ApiError when no HTTP answer came back (offline, DNS, CORS). */
export const NETWORK_ERROR_STATUS = 0;

export type QueryValue = string | number | boolean | null | undefined;
export type Query = Record<string, QueryValue>;

export interface RequestOptions {
  query?: Query;
  /** Sent as JSON. */
  body?: unknown;
  signal?: AbortSignal;
  headers?: Record<string, string>;
}

export interface ApiClientOptions {
  /** Where the API lives; same origin by default. */
  baseUrl?: string;
  fetch?: typeof fetch;
  /** The current access token, or null when signed out. */
  accessToken?: () => string | null | undefined;
  /** Makes the correlation id of one request. */
  requestId?: () => string;
  /** Clock for Retry-After given as a date. */
  now?: () => number;
  /**
   * After a 401: renews the access token, true when there is a new one. The
   * request is then sent once more (never twice).
   */
  onUnauthorized?: () => Promise<boolean>;
}

/** Any failed call: an error answer of the gateway, or no answer at all. */
export class ApiError extends Error {
  override readonly name = "ApiError";
  /** HTTP status; NETWORK_ERROR_STATUS (0) when no answer came back. */
  readonly status: number;
  /** The gateway's error code (e.g. "not_found", "invalid", "rate_limited"). */
  readonly code: string;
  /** Reason per bad field, by the field's (dotted) name; {} when none. */
  readonly fields: Readonly<Record<string, string>>;
  /** Seconds to wait before trying again (Retry-After), or null. */
  readonly retryAfter: number | null;
  /** The correlation id of the request, to quote to the help desk. */
  readonly requestId: string | null;

  constructor(init: {
    status: number;
    code: string;
    message: string;
    fields?: Record<string, string>;
    retryAfter?: number | null;
    requestId?: string | null;
  }) {
    super(init.message);
    this.status = init.status;
    this.code = init.code;
    this.fields = Object.freeze({ ...(init.fields ?? {}) });
    this.retryAfter = init.retryAfter ?? null;
    this.requestId = init.requestId ?? null;
  }

  /** The reason given for one field, or undefined. */
  fieldMessage(field: string): string | undefined {
    return Object.prototype.hasOwnProperty.call(this.fields, field) ? this.fields[field] : undefined;
  }
}

export function isApiError(value: unknown): value is ApiError {
  return value instanceof ApiError;
}

/** True for the error fetch throws when its signal aborts the request. */
export function isAbort(value: unknown): boolean {
  return (
    typeof value === "object" &&
    value !== null &&
    "name" in value &&
    (value as { name: unknown }).name === "AbortError"
  );
}

/**
 * Seconds to wait from a Retry-After header: delta-seconds, or an HTTP date
 * (counted from `now`, never below 0). null when absent or unreadable.
 */
export function parseRetryAfter(header: string | null, now: number = Date.now()): number | null {
  if (header === null) return null;
  const value = header.trim();
  if (value === "") return null;
  if (/^\d+$/.test(value)) return Number(value);
  // Every HTTP-date form starts with the day's name; Date.parse alone would
  // take "-3" for a year.
  if (!/^[A-Za-z]{3}/.test(value)) return null;
  const at = Date.parse(value);
  if (Number.isNaN(at)) return null;
  return Math.max(0, Math.ceil((at - now) / 1000));
}

/** A correlation id the gateway accepts: [A-Za-z0-9._:-]{1,128}. */
export function newRequestId(): string {
  const crypto = globalThis.crypto;
  // randomUUID exists only in secure contexts (https, localhost).
  if (typeof crypto?.randomUUID === "function") return crypto.randomUUID();
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** `?a=1&b=x` from the values that are set; "" when none is. */
export function queryString(query: Query | undefined): string {
  if (!query) return "";
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null || value === "") continue;
    params.append(key, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : "";
}

function isErrorDetail(value: unknown): value is ErrorDetail {
  if (typeof value !== "object" || value === null) return false;
  const detail = value as Record<string, unknown>;
  return typeof detail.code === "string" && typeof detail.message === "string";
}

function plainFields(value: unknown): Record<string, string> {
  if (typeof value !== "object" || value === null) return {};
  const fields: Record<string, string> = {};
  for (const [key, reason] of Object.entries(value)) {
    if (typeof reason === "string") fields[key] = reason;
    else if (Array.isArray(reason)) fields[key] = reason.map(String).join("; ");
  }
  return fields;
}

export class ApiClient {
  private readonly baseUrl: string;
  private readonly fetchImpl: typeof fetch;
  private readonly accessToken: () => string | null | undefined;
  private readonly requestId: () => string;
  private readonly now: () => number;
  private readonly onUnauthorized: (() => Promise<boolean>) | null;

  constructor(options: ApiClientOptions = {}) {
    this.baseUrl = (options.baseUrl ?? "/api/v1").replace(/\/+$/, "");
    // Bound, so that a fetch taken from window keeps its receiver.
    this.fetchImpl = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.accessToken = options.accessToken ?? (() => null);
    this.requestId = options.requestId ?? newRequestId;
    this.now = options.now ?? Date.now;
    this.onUnauthorized = options.onUnauthorized ?? null;
  }

  get<T>(path: string, options: Omit<RequestOptions, "body"> = {}): Promise<T> {
    return this.request<T>("GET", path, options);
  }

  post<T>(path: string, body?: unknown, options: Omit<RequestOptions, "body"> = {}): Promise<T> {
    return this.request<T>("POST", path, { ...options, body });
  }

  put<T>(path: string, body?: unknown, options: Omit<RequestOptions, "body"> = {}): Promise<T> {
    return this.request<T>("PUT", path, { ...options, body });
  }

  delete<T>(path: string, options: Omit<RequestOptions, "body"> = {}): Promise<T> {
    return this.request<T>("DELETE", path, options);
  }

  /**
   * Sends one request and resolves with the parsed JSON answer (undefined for
   * 204). Rejects with ApiError for an error status or no answer; an aborted
   * request rejects with the AbortError itself (see isAbort).
   */
  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    try {
      return await this.send<T>(method, path, options);
    } catch (error) {
      // An expired or ended access token: renew once, then try once more.
      // (A public call answers 401 only for a bad token, so this fits all.)
      if (error instanceof ApiError && error.status === 401 && this.onUnauthorized) {
        if (await this.onUnauthorized()) return this.send<T>(method, path, options);
      }
      throw error;
    }
  }

  private async send<T>(method: string, path: string, options: RequestOptions): Promise<T> {
    const requestId = this.requestId();
    const headers: Record<string, string> = {
      Accept: "application/json",
      [REQUEST_ID_HEADER]: requestId,
      ...options.headers,
    };
    const token = this.accessToken();
    if (token) headers.Authorization = `Bearer ${token}`;
    const init: RequestInit = { method, headers, credentials: "same-origin" };
    if (options.signal) init.signal = options.signal;
    if (options.body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(options.body);
    }
    const url = `${this.baseUrl}${path.startsWith("/") ? path : `/${path}`}${queryString(options.query)}`;

    let response: Response;
    try {
      response = await this.fetchImpl(url, init);
    } catch (error) {
      if (isAbort(error)) throw error;
      throw new ApiError({
        status: NETWORK_ERROR_STATUS,
        code: "network_error",
        message: error instanceof Error ? error.message : String(error),
        requestId,
      });
    }

    const answeredId = response.headers.get(REQUEST_ID_HEADER) ?? requestId;
    if (!response.ok) throw await this.errorOf(response, answeredId);
    if (response.status === 204) return undefined as T;
    const text = await response.text();
    if (text === "") return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new ApiError({
        status: response.status,
        code: "bad_response",
        message: "the answer is not JSON",
        requestId: answeredId,
      });
    }
  }

  private async errorOf(response: Response, requestId: string): Promise<ApiError> {
    const retryAfter = parseRetryAfter(response.headers.get("Retry-After"), this.now());
    let detail: ErrorDetail | null = null;
    try {
      const body: unknown = JSON.parse(await response.text());
      const error = (body as { error?: unknown } | null)?.error;
      if (isErrorDetail(error)) detail = error;
    } catch {
      // A proxy's HTML page or an empty body: described by the status alone.
    }
    return new ApiError({
      status: response.status,
      code: detail?.code ?? `http_${response.status}`,
      message: detail?.message || response.statusText || `HTTP ${response.status}`,
      fields: plainFields(detail?.fields),
      retryAfter,
      requestId,
    });
  }
}
