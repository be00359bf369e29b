import { webcrypto } from "node:crypto";

import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { ApiClient } from "@/api/client";

import {
  base64url,
  checkIdToken,
  codeChallenge,
  OidcClient,
  OidcError,
  PENDING_PREFIX,
  REFRESH_TOKEN_KEY,
  renewalDelayMs,
  safeReturnPath,
  type OidcOptions,
} from "./oidc";

const ORIGIN = "https://portal.test";
const ISSUER = "https://portal.test";
const DISCOVERY = {
  issuer: ISSUER,
  authorization_endpoint: `${ISSUER}/oidc/authorize`,
  token_endpoint: `${ISSUER}/oidc/token`,
  userinfo_endpoint: `${ISSUER}/oidc/userinfo`,
  end_session_endpoint: `${ISSUER}/oidc/logout`,
  jwks_uri: `${ISSUER}/.well-known/jwks.json`,
  code_challenge_methods_supported: ["S256"],
  authorization_response_iss_parameter_supported: true,
};
const NOW = Date.UTC(2026, 11, 2, 4, 0, 0);
const NOW_S = NOW / 1000;

// RFC 7636 appendix B: these octets make the verifier whose challenge is known.
const RFC_OCTETS = [
  116, 24, 223, 180, 151, 153, 224, 37, 79, 250, 96, 125, 216, 173, 187, 186, 22, 212, 37, 77, 105, 214, 191, 240, 91,
  88, 5, 88, 83, 132, 141, 121,
];
const RFC_VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const RFC_CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

function jwt(claims: Record<string, unknown>, header: Record<string, unknown> = { alg: "RS256", kid: "k1" }): string {
  const part = (value: unknown) => base64url(new TextEncoder().encode(JSON.stringify(value)));
  return `${part(header)}.${part(claims)}.c2lnbmF0dXJl`;
}

function idToken(overrides: Record<string, unknown> = {}): string {
  return jwt({
    iss: ISSUER,
    sub: "u-1",
    aud: "tongban-portal",
    azp: "tongban-portal",
    exp: NOW_S + 600,
    iat: NOW_S,
    name: "张三",
    ...overrides,
  });
}

/** Random values: first the RFC's octets (the verifier), then 1, 2, 3... for state and nonce. */
function fakeCrypto() {
  let calls = 0;
  return {
    subtle: webcrypto.subtle as unknown as SubtleCrypto,
    getRandomValues<T extends ArrayBufferView | null>(array: T): T {
      const bytes = array as unknown as Uint8Array;
      if (calls === 0) bytes.set(RFC_OCTETS);
      else bytes.fill(calls);
      calls++;
      return array;
    },
  };
}

class MemoryStorage {
  private map = new Map<string, string>();
  get length() {
    return this.map.size;
  }
  key(i: number) {
    return [...this.map.keys()][i] ?? null;
  }
  getItem(key: string) {
    return this.map.get(key) ?? null;
  }
  setItem(key: string, value: string) {
    this.map.set(key, value);
  }
  removeItem(key: string) {
    this.map.delete(key);
  }
}

interface Call {
  url: string;
  form: URLSearchParams | null;
}

type TokenReply = { status?: number; body: unknown } | (() => never);

function setup(tokenReplies: TokenReply[] = [], extra: Partial<OidcOptions> = {}) {
  const calls: Call[] = [];
  const navigated: string[] = [];
  const storage = new MemoryStorage();
  let clock = NOW;
  const fetch = vi.fn(async (input: RequestInfo | URL, init: RequestInit = {}) => {
    const url = String(input);
    calls.push({ url, form: typeof init.body === "string" ? new URLSearchParams(init.body) : null });
    if (url.endsWith("/.well-known/openid-configuration")) return Response.json(DISCOVERY);
    if (url.endsWith("/oidc/token")) {
      const reply = tokenReplies.shift();
      if (!reply) throw new Error("no token reply left");
      if (typeof reply === "function") reply();
      const { status = 200, body } = reply as { status?: number; body: unknown };
      return Response.json(body, { status });
    }
    throw new TypeError("Failed to fetch");
  });
  const client = new OidcClient({
    origin: ORIGIN,
    fetch: fetch as unknown as typeof globalThis.fetch,
    crypto: fakeCrypto(),
    storage,
    navigate: (url) => navigated.push(url),
    now: () => clock,
    tabId: () => "tab-1",
    setTimer: (callback, ms) => setTimeout(callback, ms),
    clearTimer: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
    ...extra,
  });
  return {
    client,
    calls,
    navigated,
    storage,
    fetch,
    advance(ms: number) {
      clock += ms;
    },
  };
}

/** The refresh token as this tab stores it. */
function stored(token: string, tab = "tab-1"): string {
  return JSON.stringify({ tab, token });
}

function tokens(overrides: Record<string, unknown> = {}) {
  return {
    body: {
      access_token: "at-1",
      token_type: "Bearer",
      expires_in: 900,
      refresh_token: "rt-1",
      id_token: idToken(),
      scope: "openid profile",
      ...overrides,
    },
  };
}

/** Signs in: authorize URL, then the callback with the code. */
async function signIn(context: ReturnType<typeof setup>, returnTo = "/my/cases") {
  const url = new URL(await context.client.authorizationUrl(returnTo));
  const state = url.searchParams.get("state") ?? "";
  const nonce = url.searchParams.get("nonce") ?? "";
  return { url, state, nonce };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe("PKCE and encoding", () => {
  it("makes the RFC 7636 S256 challenge", async () => {
    expect(await codeChallenge(RFC_VERIFIER, webcrypto as unknown as Crypto)).toBe(RFC_CHALLENGE);
    expect(base64url(Uint8Array.from(RFC_OCTETS))).toBe(RFC_VERIFIER);
  });

  it("renews a minute before the end, or at four fifths of a short life", () => {
    expect(renewalDelayMs(900)).toBe(840_000);
    expect(renewalDelayMs(100)).toBe(80_000);
    expect(renewalDelayMs(3)).toBe(5_000);
  });

  it("returns only to paths of this site", () => {
    expect(safeReturnPath("/my/cases?page=2")).toBe("/my/cases?page=2");
    expect(safeReturnPath("https://evil.test/")).toBe("/");
    expect(safeReturnPath("//evil.test/")).toBe("/");
    expect(safeReturnPath("/\\evil.test")).toBe("/");
    expect(safeReturnPath("/auth/callback?code=x")).toBe("/");
  });
});

describe("authorization request", () => {
  it("discovers the provider on this origin and builds the code flow URL with S256, state and nonce", async () => {
    const context = setup();
    const { url, state, nonce } = await signIn(context);
    expect(context.calls[0]?.url).toBe(`${ORIGIN}/.well-known/openid-configuration`);
    expect(`${url.origin}${url.pathname}`).toBe(DISCOVERY.authorization_endpoint);
    expect(Object.fromEntries(url.searchParams)).toEqual({
      response_type: "code",
      client_id: "tongban-portal",
      redirect_uri: `${ORIGIN}/auth/callback`,
      scope: "openid profile phone enterprise agent staff",
      state,
      nonce,
      code_challenge: RFC_CHALLENGE,
      code_challenge_method: "S256",
      ui_locales: "zh-CN",
    });
    expect(state).toHaveLength(43);
    expect(nonce).toHaveLength(43);
    expect(state).not.toBe(nonce);
    const pending = JSON.parse(context.storage.getItem(PENDING_PREFIX + state) ?? "{}");
    expect(pending).toMatchObject({ verifier: RFC_VERIFIER, nonce, returnTo: "/my/cases" });
  });

  it("signIn leaves for the provider", async () => {
    const context = setup();
    await context.client.signIn("/my/licences");
    expect(context.navigated).toHaveLength(1);
    expect(context.navigated[0]).toMatch(/^https:\/\/portal\.test\/oidc\/authorize\?/);
  });

  it("refuses a provider that does not offer S256", async () => {
    const context = setup();
    context.fetch.mockImplementationOnce(async () =>
      Response.json({ ...DISCOVERY, code_challenge_methods_supported: ["plain"] }),
    );
    await expect(context.client.authorizationUrl()).rejects.toMatchObject({ code: "discovery" });
  });
});

describe("callback", () => {
  it("exchanges the code with the verifier, checks the ID token and keeps only the refresh token in storage", async () => {
    const context = setup();
    const { state, nonce } = await signIn(context);
    context.calls.length = 0;
    // The provider answers with the nonce it was sent.
    const reply = tokens({ id_token: idToken({ nonce }) });
    context.fetch.mockImplementationOnce(async (input: RequestInfo | URL, init: RequestInit = {}) => {
      context.calls.push({ url: String(input), form: new URLSearchParams(String(init.body)) });
      return Response.json(reply.body);
    });
    const back = await context.client.handleCallback(`${ORIGIN}/auth/callback?code=c-1&state=${state}&iss=${encodeURIComponent(ISSUER)}`);
    expect(back).toBe("/my/cases");
    const exchange = context.calls.find((c) => c.url.endsWith("/oidc/token"));
    expect(exchange?.url).toBe(`${ORIGIN}/oidc/token`);
    expect(Object.fromEntries(exchange?.form ?? [])).toEqual({
      grant_type: "authorization_code",
      code: "c-1",
      redirect_uri: `${ORIGIN}/auth/callback`,
      code_verifier: RFC_VERIFIER,
      client_id: "tongban-portal",
    });
    expect(context.client.status).toBe("signed_in");
    expect(context.client.claims?.name).toBe("张三");
    expect(context.client.accessToken()).toBe("at-1");
    expect(context.storage.getItem(REFRESH_TOKEN_KEY)).toBe(stored("rt-1"));
    // The access and ID tokens stay in memory only.
    const kept = [...Array(context.storage.length).keys()].map((i) => context.storage.getItem(context.storage.key(i) ?? ""));
    expect(kept).toEqual([stored("rt-1")]);
    // The state is used up.
    await expect(context.client.handleCallback(`/auth/callback?code=c-1&state=${state}&iss=${encodeURIComponent(ISSUER)}`)).rejects.toMatchObject({
      code: "state_mismatch",
    });
  });

  it("refuses an answer whose state this tab did not send", async () => {
    const context = setup();
    await signIn(context);
    await expect(context.client.handleCallback("/auth/callback?code=c&state=forged")).rejects.toMatchObject({
      code: "state_mismatch",
    });
    await expect(context.client.handleCallback("/auth/callback?code=c")).rejects.toMatchObject({ code: "state_mismatch" });
  });

  it("refuses a sign-in that took too long", async () => {
    const context = setup();
    const { state } = await signIn(context);
    context.advance(16 * 60 * 1000);
    await expect(context.client.handleCallback(`/auth/callback?code=c&state=${state}&iss=${ISSUER}`)).rejects.toMatchObject({
      code: "state_mismatch",
    });
  });

  it("refuses an answer from another issuer, or without iss when the provider sends one", async () => {
    const context = setup();
    const first = await signIn(context);
    await expect(
      context.client.handleCallback(`/auth/callback?code=c&state=${first.state}&iss=https%3A%2F%2Fevil.test`),
    ).rejects.toMatchObject({ code: "issuer_mismatch" });
    const second = await signIn(context);
    await expect(context.client.handleCallback(`/auth/callback?code=c&state=${second.state}`)).rejects.toMatchObject({
      code: "issuer_mismatch",
    });
  });

  it("passes on the provider's error (the person refused consent)", async () => {
    const context = setup();
    const { state } = await signIn(context);
    const error = await context.client
      .handleCallback(`/auth/callback?error=access_denied&error_description=denied&state=${state}&iss=${ISSUER}`)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OidcError);
    expect(error).toMatchObject({ code: "access_denied", message: "denied" });
    expect(context.client.status).not.toBe("signed_in");
  });

  it("fails without a code, and on the token endpoint's refusal", async () => {
    const context = setup([{ status: 400, body: { error: "invalid_grant", error_description: "code used" } }]);
    const first = await signIn(context);
    await expect(context.client.handleCallback(`/auth/callback?state=${first.state}&iss=${ISSUER}`)).rejects.toMatchObject({
      code: "missing_code",
    });
    const second = await signIn(context);
    await expect(
      context.client.handleCallback(`/auth/callback?code=c&state=${second.state}&iss=${ISSUER}`),
    ).rejects.toMatchObject({ code: "invalid_grant", status: 400, message: "code used" });
  });

  it.each([
    ["another nonce", { nonce: "other" }],
    ["another audience", { aud: "someone-else", azp: undefined }],
    ["several audiences without azp", { aud: ["tongban-portal", "x"], azp: undefined }],
    ["another issuer", { iss: "https://evil.test" }],
    ["an expired token", { exp: NOW_S - 300 }],
    ["a token from the future", { iat: NOW_S + 3600 }],
  ])("refuses an ID token with %s", async (_, overrides) => {
    const context = setup();
    const { state, nonce } = await signIn(context);
    context.fetch.mockImplementationOnce(async () =>
      Response.json(tokens({ id_token: idToken({ nonce, ...overrides }) }).body),
    );
    await expect(context.client.handleCallback(`/auth/callback?code=c&state=${state}&iss=${ISSUER}`)).rejects.toMatchObject({
      code: "bad_id_token",
    });
    expect(context.client.accessToken()).toBeNull();
    expect(context.storage.getItem(REFRESH_TOKEN_KEY)).toBeNull();
  });

  it("refuses an unsigned ID token", () => {
    expect(() =>
      checkIdToken(jwt({ iss: ISSUER, sub: "u", aud: "tongban-portal", exp: NOW_S + 60, iat: NOW_S }, { alg: "none" }), {
        issuer: ISSUER,
        clientId: "tongban-portal",
        now: NOW_S,
      }),
    ).toThrow(OidcError);
  });
});

async function signedIn(extra: Partial<OidcOptions> = {}) {
  const context = setup([], extra);
  const { state, nonce } = await signIn(context);
  context.fetch.mockImplementationOnce(async () => Response.json(tokens({ id_token: idToken({ nonce }) }).body));
  await context.client.handleCallback(`/auth/callback?code=c&state=${state}&iss=${ISSUER}`);
  context.calls.length = 0;
  context.fetch.mockClear();
  return context;
}

describe("refresh", () => {
  it("rotates the refresh token and replaces the access token", async () => {
    const context = setup([tokens({ access_token: "at-2", refresh_token: "rt-2", id_token: idToken() })]);
    context.storage.setItem(REFRESH_TOKEN_KEY, stored("rt-1"));
    expect(await context.client.restore()).toBe("signed_in");
    const call = context.calls.find((c) => c.url.endsWith("/oidc/token"));
    expect(Object.fromEntries(call?.form ?? [])).toEqual({
      grant_type: "refresh_token",
      refresh_token: "rt-1",
      client_id: "tongban-portal",
    });
    expect(context.client.accessToken()).toBe("at-2");
    expect(context.storage.getItem(REFRESH_TOKEN_KEY)).toBe(stored("rt-2"));
    expect(context.client.claims?.sub).toBe("u-1");
  });

  it("shares one request between callers at the same time", async () => {
    const context = setup([tokens({ access_token: "at-2", refresh_token: "rt-2" })]);
    context.storage.setItem(REFRESH_TOKEN_KEY, stored("rt-1"));
    const results = await Promise.all([context.client.refresh(), context.client.refresh()]);
    expect(results).toEqual([true, true]);
    expect(context.calls.filter((c) => c.url.endsWith("/oidc/token"))).toHaveLength(1);
  });

  it("signs out when the provider refuses the refresh token (reused or revoked)", async () => {
    const context = setup([{ status: 400, body: { error: "invalid_grant" } }]);
    context.storage.setItem(REFRESH_TOKEN_KEY, stored("rt-old"));
    expect(await context.client.restore()).toBe("signed_out");
    expect(context.storage.getItem(REFRESH_TOKEN_KEY)).toBeNull();
  });

  it("refuses a refreshed ID token for another subject", async () => {
    const context = await signedIn();
    context.fetch.mockImplementationOnce(async () => Response.json(tokens({ id_token: idToken({ sub: "u-2" }) }).body));
    await expect(context.client.refresh()).rejects.toMatchObject({ code: "bad_id_token" });
    expect(context.client.status).toBe("signed_out");
  });

  it("keeps the state when the network fails", async () => {
    const context = await signedIn();
    context.fetch.mockImplementationOnce(async () => {
      throw new TypeError("Failed to fetch");
    });
    await expect(context.client.refresh()).rejects.toMatchObject({ code: "network" });
    expect(context.client.status).toBe("signed_in");
    expect(context.storage.getItem(REFRESH_TOKEN_KEY)).toBe(stored("rt-1"));
  });

  it.each([429, 503])("keeps the state when the token endpoint answers %i", async (status) => {
    const context = await signedIn();
    context.fetch.mockImplementationOnce(async () =>
      Response.json({ error: { code: "busy", message: "busy", fields: {} } }, { status }),
    );
    await expect(context.client.refresh()).rejects.toMatchObject({ status });
    expect(context.client.status).toBe("signed_in");
    expect(context.storage.getItem(REFRESH_TOKEN_KEY)).toBe(stored("rt-1"));
  });

  it("drops a refresh token another tab wrote (a tab opened from it got a copy), asking nobody", async () => {
    const context = setup();
    context.storage.setItem(REFRESH_TOKEN_KEY, stored("rt-1", "tab-0"));
    expect(await context.client.restore()).toBe("signed_out");
    expect(context.calls).toHaveLength(0);
    expect(context.storage.getItem(REFRESH_TOKEN_KEY)).toBeNull();
  });

  it("is signed out at start without a stored refresh token, asking nobody", async () => {
    const context = setup();
    expect(await context.client.restore()).toBe("signed_out");
    expect(context.calls).toHaveLength(0);
  });
});

describe("renewal scheduling", () => {
  it("renews quietly a minute before the access token ends", async () => {
    const context = await signedIn();
    context.fetch.mockImplementationOnce(async () => Response.json(tokens({ access_token: "at-2", refresh_token: "rt-2" }).body));
    await vi.advanceTimersByTimeAsync(839_000);
    expect(context.fetch).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(context.fetch).toHaveBeenCalledTimes(1);
    expect(context.client.accessToken()).toBe("at-2");
    expect(context.storage.getItem(REFRESH_TOKEN_KEY)).toBe(stored("rt-2"));
  });

  it("tries again after a network failure while the token lasts", async () => {
    const context = await signedIn();
    context.fetch
      .mockImplementationOnce(async () => {
        throw new TypeError("Failed to fetch");
      })
      .mockImplementationOnce(async () => Response.json(tokens({ access_token: "at-3", refresh_token: "rt-3" }).body));
    await vi.advanceTimersByTimeAsync(840_000);
    expect(context.fetch).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(15_000);
    expect(context.fetch).toHaveBeenCalledTimes(2);
    expect(context.client.accessToken()).toBe("at-3");
  });

  it("stops renewing after sign-out", async () => {
    const context = await signedIn();
    context.client.clear();
    await vi.advanceTimersByTimeAsync(900_000);
    expect(context.fetch).not.toHaveBeenCalled();
  });
});

describe("the API after a 401", () => {
  it("renews once and sends the request again with the new token", async () => {
    const context = await signedIn();
    context.fetch.mockImplementationOnce(async () => Response.json(tokens({ access_token: "at-2", refresh_token: "rt-2" }).body));
    const seen: (string | null)[] = [];
    const api = new ApiClient({
      baseUrl: `${ORIGIN}/api/v1`,
      accessToken: () => context.client.accessToken(),
      onUnauthorized: () => context.client.renewAfterUnauthorized(),
      fetch: (async (_: RequestInfo | URL, init: RequestInit = {}) => {
        const auth = new Headers(init.headers).get("Authorization");
        seen.push(auth);
        return auth === "Bearer at-2"
          ? Response.json({ ok: true })
          : Response.json({ error: { code: "unauthorized", message: "expired", fields: {} } }, { status: 401 });
      }) as typeof fetch,
    });
    expect(await api.get("/me")).toEqual({ ok: true });
    expect(seen).toEqual(["Bearer at-1", "Bearer at-2"]);
  });

  it("gives up after one renewal", async () => {
    const context = await signedIn();
    context.fetch.mockImplementationOnce(async () => Response.json(tokens({ access_token: "at-2", refresh_token: "rt-2" }).body));
    let sent = 0;
    const api = new ApiClient({
      accessToken: () => context.client.accessToken(),
      onUnauthorized: () => context.client.renewAfterUnauthorized(),
      fetch: (async () => {
        sent++;
        return Response.json({ error: { code: "unauthorized", message: "ended", fields: {} } }, { status: 401 });
      }) as typeof fetch,
    });
    await expect(api.get("/me")).rejects.toMatchObject({ status: 401 });
    expect(sent).toBe(2);
  });
});

describe("sign-out", () => {
  it("leaves for the end-session endpoint with the ID token as hint and forgets every token", async () => {
    const context = await signedIn();
    const hint = (context.client as unknown as { idToken: string }).idToken;
    await context.client.signOut();
    const url = new URL(context.navigated.at(-1) ?? "");
    expect(`${url.origin}${url.pathname}`).toBe(DISCOVERY.end_session_endpoint);
    expect(Object.fromEntries(url.searchParams)).toEqual({
      id_token_hint: hint,
      client_id: "tongban-portal",
      post_logout_redirect_uri: `${ORIGIN}/`,
      ui_locales: "zh-CN",
    });
    expect(context.client.status).toBe("signed_out");
    expect(context.client.accessToken()).toBeNull();
    expect(context.storage.getItem(REFRESH_TOKEN_KEY)).toBeNull();
  });
});
