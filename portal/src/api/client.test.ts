import { describe, expect, it } from "vitest";

import { apiError, fakeGateway } from "@/testing/support";

import { searchItems, getItem, listStores } from "./catalog";
import { ApiClient, ApiError, isAbort, NETWORK_ERROR_STATUS, parseRetryAfter, queryString } from "./client";
import { pageCount, parsePageNumber, rowRange } from "./paging";

const emptyPage = { items: [], page: 1, page_size: 20, total: 0 };

describe("ApiClient requests", () => {
  it("sends JSON to /api/v1 with a fresh correlation id each time", async () => {
    const gateway = fakeGateway({ "GET /api/v1/items": { body: emptyPage } });
    let n = 0;
    const api = new ApiClient({ fetch: gateway.fetch, requestId: () => `req-${++n}` });

    await api.get("/items");
    await api.get("/items");

    const [first, second] = gateway.requests;
    expect(first?.url.pathname).toBe("/api/v1/items");
    expect(first?.headers.get("Accept")).toBe("application/json");
    expect(first?.headers.get("X-Request-Id")).toBe("req-1");
    expect(second?.headers.get("X-Request-Id")).toBe("req-2");
  });

  it("makes correlation ids the gateway accepts", async () => {
    const gateway = fakeGateway({ "GET /api/v1/regions": { body: { items: [] } } });
    await new ApiClient({ fetch: gateway.fetch }).get("/regions");
    expect(gateway.requests[0]?.headers.get("X-Request-Id")).toMatch(/^[A-Za-z0-9._:-]{1,128}$/);
  });

  it("sends the bearer token only when there is one", async () => {
    const gateway = fakeGateway({ "GET /api/v1/me": { body: {} } });
    let token: string | null = null;
    const api = new ApiClient({ fetch: gateway.fetch, accessToken: () => token });

    await api.get("/me");
    token = "eyJ.access.token";
    await api.get("/me");

    expect(gateway.requests[0]?.headers.has("Authorization")).toBe(false);
    expect(gateway.requests[1]?.headers.get("Authorization")).toBe("Bearer eyJ.access.token");
  });

  it("sends a body as JSON", async () => {
    const gateway = fakeGateway({ "POST /api/v1/auth/refresh": { body: { access_token: "a" } } });
    const api = new ApiClient({ fetch: gateway.fetch });

    const answer = await api.post<{ access_token: string }>("/auth/refresh", { refresh_token: "r" });

    expect(answer.access_token).toBe("a");
    expect(gateway.requests[0]?.headers.get("Content-Type")).toBe("application/json");
    expect(gateway.requests[0]?.body).toEqual({ refresh_token: "r" });
  });

  it("puts only the filters that are set in the query", async () => {
    const gateway = fakeGateway({ "GET /api/v1/items": { body: emptyPage } });
    const api = new ApiClient({ fetch: gateway.fetch });

    await searchItems(api, { q: "营业执照", region: "320100", department: undefined, page: 2, page_size: 20 });

    const params = gateway.requests[0]?.url.searchParams;
    expect(params?.get("q")).toBe("营业执照");
    expect(params?.get("region")).toBe("320100");
    expect(params?.get("page")).toBe("2");
    expect(params?.has("department")).toBe(false);
    expect(queryString({ a: "", b: null, c: undefined })).toBe("");
  });

  it("escapes ids in paths", async () => {
    const gateway = fakeGateway({});
    const api = new ApiClient({ fetch: gateway.fetch });
    await getItem(api, "a/b c").catch(() => undefined);
    expect(gateway.requests[0]?.url.pathname).toBe("/api/v1/items/a%2Fb%20c");
  });

  it("answers undefined for 204", async () => {
    const gateway = fakeGateway({ "POST /api/v1/auth/logout": { status: 204 } });
    await expect(new ApiClient({ fetch: gateway.fetch }).post("/auth/logout")).resolves.toBeUndefined();
  });
});

describe("ApiClient errors", () => {
  it("turns the gateway's error body into an ApiError", async () => {
    const gateway = fakeGateway({
      "GET /api/v1/items": {
        ...apiError(422, "invalid", "invalid input", { q: "Longer than maximum length 100.", level: "Must be one of: province, city, county." }),
        headers: { "X-Request-Id": "echoed-id" },
      },
    });
    const api = new ApiClient({ fetch: gateway.fetch });

    const error = await api.get("/items").catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ApiError);
    const apiErr = error as ApiError;
    expect(apiErr.status).toBe(422);
    expect(apiErr.code).toBe("invalid");
    expect(apiErr.message).toBe("invalid input");
    expect(apiErr.fields).toEqual({
      q: "Longer than maximum length 100.",
      level: "Must be one of: province, city, county.",
    });
    expect(apiErr.fieldMessage("q")).toBe("Longer than maximum length 100.");
    expect(apiErr.fieldMessage("toString")).toBeUndefined();
    expect(apiErr.retryAfter).toBeNull();
    expect(apiErr.requestId).toBe("echoed-id");
  });

  it.each([
    [401, "unauthorized"],
    [403, "forbidden"],
    [404, "not_found"],
    [409, "conflict"],
    [503, "unavailable"],
    [504, "timeout"],
  ])("keeps status %i and code %s", async (status, code) => {
    const gateway = fakeGateway({ "GET /api/v1/me": apiError(status, code) });
    const error = (await new ApiClient({ fetch: gateway.fetch }).get("/me").catch((e: unknown) => e)) as ApiError;
    expect([error.status, error.code]).toEqual([status, code]);
  });

  it("reads Retry-After in seconds", async () => {
    const gateway = fakeGateway({
      "POST /api/v1/auth/login": { ...apiError(429, "rate_limited", "too many attempts"), headers: { "Retry-After": "17" } },
    });
    const error = (await new ApiClient({ fetch: gateway.fetch })
      .post("/auth/login", { phone: "13800000000", password: "x" })
      .catch((e: unknown) => e)) as ApiError;
    expect(error.status).toBe(429);
    expect(error.retryAfter).toBe(17);
  });

  it("reads Retry-After given as a date", async () => {
    const now = Date.parse("2026-12-02T04:00:00Z");
    const gateway = fakeGateway({
      "GET /api/v1/stores": { ...apiError(503, "unavailable"), headers: { "Retry-After": "Wed, 02 Dec 2026 04:01:30 GMT" } },
    });
    const error = (await new ApiClient({ fetch: gateway.fetch, now: () => now })
      .get("/stores")
      .catch((e: unknown) => e)) as ApiError;
    expect(error.retryAfter).toBe(90);
  });

  it("parses Retry-After strictly", () => {
    expect(parseRetryAfter(null)).toBeNull();
    expect(parseRetryAfter("")).toBeNull();
    expect(parseRetryAfter(" 5 ")).toBe(5);
    expect(parseRetryAfter("soon")).toBeNull();
    expect(parseRetryAfter("-3")).toBeNull();
    expect(parseRetryAfter("Wed, 02 Dec 2026 03:00:00 GMT", Date.parse("2026-12-02T04:00:00Z"))).toBe(0);
  });

  it("describes an error without the gateway's body by its status", async () => {
    const fetch = async () => new Response("<html>Bad Gateway</html>", { status: 502, statusText: "Bad Gateway" });
    const error = (await new ApiClient({ fetch }).get("/regions").catch((e: unknown) => e)) as ApiError;
    expect(error.status).toBe(502);
    expect(error.code).toBe("http_502");
    expect(error.message).toBe("Bad Gateway");
    expect(error.fields).toEqual({});
  });

  it("reports no answer as status 0", async () => {
    const fetch = async () => {
      throw new TypeError("Failed to fetch");
    };
    const error = (await new ApiClient({ fetch, requestId: () => "r1" }).get("/regions").catch((e: unknown) => e)) as ApiError;
    expect(error).toBeInstanceOf(ApiError);
    expect(error.status).toBe(NETWORK_ERROR_STATUS);
    expect(error.code).toBe("network_error");
    expect(error.requestId).toBe("r1");
  });

  it("lets an abort through as it is", async () => {
    const controller = new AbortController();
    const fetch = (_input: RequestInfo | URL, init?: RequestInit) =>
      new Promise<Response>((_resolve, reject) => {
        init?.signal?.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError")));
      });
    const pending = new ApiClient({ fetch }).get("/items", { signal: controller.signal });
    controller.abort();
    const error = await pending.catch((e: unknown) => e);
    expect(isAbort(error)).toBe(true);
    expect(error).not.toBeInstanceOf(ApiError);
  });

  it("refuses a success that is not JSON", async () => {
    const fetch = async () => new Response("<html></html>", { status: 200 });
    const error = (await new ApiClient({ fetch }).get("/regions").catch((e: unknown) => e)) as ApiError;
    expect(error.code).toBe("bad_response");
  });
});

describe("paging", () => {
  it("reads a page of stores and counts its pages", async () => {
    const stores = Array.from({ length: 20 }, (_, i) => ({
      store_id: `store-${i}`,
      name: `旗舰店 ${i}`,
      kind: "department",
      department_code: `d${i}`,
      region_code: "320000",
      rating: { reviews: 0, praise_rate: null, average_grade: null },
    }));
    const gateway = fakeGateway({ "GET /api/v1/stores": { body: { items: stores, page: 3, page_size: 20, total: 53 } } });
    const page = await listStores(new ApiClient({ fetch: gateway.fetch }), { page: 3, page_size: 20 });

    expect(gateway.requests[0]?.url.search).toBe("?page=3&page_size=20");
    expect(pageCount(page)).toBe(3);
    expect(rowRange(page)).toEqual([41, 60]);
  });

  it("counts pages at the edges", () => {
    expect(pageCount({ total: 0, page_size: 20 })).toBe(0);
    expect(pageCount({ total: 20, page_size: 20 })).toBe(1);
    expect(pageCount({ total: 21, page_size: 20 })).toBe(2);
    expect(rowRange({ items: [], page: 1, page_size: 20, total: 0 })).toEqual([0, 0]);
  });

  it("reads page numbers from a URL defensively", () => {
    expect(parsePageNumber("3")).toBe(3);
    expect(parsePageNumber(["4", "5"])).toBe(4);
    expect(parsePageNumber(undefined)).toBe(1);
    expect(parsePageNumber("0")).toBe(1);
    expect(parsePageNumber("2.5")).toBe(1);
    expect(parsePageNumber("abc")).toBe(1);
    expect(parsePageNumber("10001")).toBe(1);
  });
});
