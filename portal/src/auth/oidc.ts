// Sign-in through tongban's own OpenID Connect provider, as a public client
// (token_endpoint_auth_method "none"): the authorization code flow with PKCE
// S256, state and nonce, all made with Web Crypto.
//
// Where the tokens live:
// - the access token and the ID token only in memory (this object);
// - the refresh token in sessionStorage, so that a reload or a link opened in
//   the same tab stays signed in without a trip to the provider. It is gone
//   when the tab closes; the provider rotates it on every use, and a reused one
//   ends the whole session there. README.md ("Sign-in") explains the trade-off.
//
// The ID token comes straight from the token endpoint, over TLS, in answer to
// our own request with the code verifier (OpenID Connect Core 3.1.3.7, item 6):
// its signature is therefore not checked here. Its claims that the portal
// relies on are: iss, aud (and azp), nonce, exp and iat, and on a refresh that
// sub stays the same.

/** The discovery document's fields this client uses. */
export interface ProviderMetadata {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  end_session_endpoint: string;
  userinfo_endpoint?: string;
  code_challenge_methods_supported?: string[];
  authorization_response_iss_parameter_supported?: boolean;
}

/** The ID token claims the portal reads (the provider's scopes decide which are there). */
export interface IdClaims {
  iss: string;
  sub: string;
  aud: string | string[];
  exp: number;
  iat: number;
  azp?: string;
  nonce?: string;
  auth_time?: number;
  acr?: string;
  amr?: string[];
  sid?: string;
  name?: string;
  phone_number?: string;
  phone_number_verified?: boolean;
  enterprises?: { uscc: string; name: string; role: string }[];
  mandates?: {
    mandate_id: string;
    principal_kind: "enterprise" | "person";
    principal_name: string;
    principal_ref: string;
    expires_at: string;
  }[];
  department_code?: string;
  roles?: string[];
}

/** TokenSuccess of the token endpoint. */
export interface TokenAnswer {
  access_token: string;
  token_type: string;
  expires_in: number;
  refresh_token?: string;
  id_token?: string;
  scope?: string;
}

/**
 * Why sign-in or renewal failed. `code` is the OAuth error from the provider
 * (access_denied, login_required, invalid_grant, ...) or one of ours:
 * state_mismatch, issuer_mismatch, missing_code, bad_id_token, bad_answer,
 * network, discovery.
 */
export class OidcError extends Error {
  override readonly name = "OidcError";
  constructor(
    readonly code: string,
    message: string = code,
    readonly status: number | null = null,
  ) {
    super(message);
  }
}

export const DEFAULT_SCOPES = "openid profile phone enterprise agent staff";
export const DEFAULT_CLIENT_ID = "tongban-portal";
export const REFRESH_TOKEN_KEY = "tongban.oidc.refresh";
export const PENDING_PREFIX = "tongban.oidc.pending.";
/** A sign-in that has not come back within this long is forgotten. */
export const PENDING_MAX_AGE_MS = 15 * 60 * 1000;
/** Clock difference tolerated between the provider and this device. */
export const CLOCK_SKEW_SECONDS = 120;

export interface OidcOptions {
  /** The portal's origin, e.g. "https://www.tongban.gov.cn". */
  origin: string;
  clientId?: string;
  scopes?: string;
  fetch?: typeof fetch;
  crypto?: Pick<Crypto, "getRandomValues" | "subtle">;
  storage?: Pick<Storage, "getItem" | "setItem" | "removeItem" | "key" | "length">;
  /** Leaves the page for the provider's URL. */
  navigate?: (url: string) => void;
  now?: () => number;
  setTimer?: (callback: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
  /** The language the provider's pages should speak (ui_locales). */
  locale?: () => string;
  /** This browser tab's lasting id (see storedRefreshToken). */
  tabId?: () => string;
}

interface Pending {
  nonce: string;
  verifier: string;
  returnTo: string;
  createdAt: number;
}

// ---------------------------------------------------------------- encoding

export function base64url(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function base64urlDecode(text: string): Uint8Array {
  const padded = text.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((text.length + 3) % 4);
  const binary = atob(padded);
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

/** The claims of a JWT, not verified; throws OidcError("bad_id_token") when it is not one. */
export function decodeJwtClaims(token: string): Record<string, unknown> {
  const parts = token.split(".");
  if (parts.length !== 3 || !parts[1]) throw new OidcError("bad_id_token", "not a JWT");
  try {
    const header = JSON.parse(new TextDecoder().decode(base64urlDecode(parts[0] ?? ""))) as { alg?: unknown };
    if (header.alg === "none") throw new OidcError("bad_id_token", "unsigned token");
    const claims: unknown = JSON.parse(new TextDecoder().decode(base64urlDecode(parts[1])));
    if (typeof claims !== "object" || claims === null) throw new Error("claims are not an object");
    return claims as Record<string, unknown>;
  } catch (error) {
    if (error instanceof OidcError) throw error;
    throw new OidcError("bad_id_token", "unreadable token");
  }
}

/** The S256 code challenge of a verifier: BASE64URL(SHA-256(ASCII(verifier))). */
export async function codeChallenge(
  verifier: string,
  crypto: Pick<Crypto, "subtle"> = globalThis.crypto,
): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  return base64url(new Uint8Array(digest));
}

// ---------------------------------------------------------------- checks

export interface IdTokenExpectations {
  issuer: string;
  clientId: string;
  /** The nonce sent with the authorization request; undefined on a refresh. */
  nonce?: string;
  /** The subject already signed in (refresh): it may not change. */
  sub?: string;
  /** Seconds since the epoch. */
  now: number;
}

/** Reads an ID token and checks the claims the portal relies on; throws OidcError("bad_id_token"). */
export function checkIdToken(token: string, expect: IdTokenExpectations): IdClaims {
  const claims = decodeJwtClaims(token);
  const fail = (why: string): never => {
    throw new OidcError("bad_id_token", why);
  };
  if (claims.iss !== expect.issuer) fail("iss is not the provider");
  if (typeof claims.sub !== "string" || claims.sub === "") fail("no sub");
  const aud = claims.aud;
  const audiences = typeof aud === "string" ? [aud] : Array.isArray(aud) ? aud : [];
  if (!audiences.includes(expect.clientId)) fail("aud is not this client");
  if (audiences.length > 1 && claims.azp !== expect.clientId) fail("azp is not this client");
  if (claims.azp !== undefined && claims.azp !== expect.clientId) fail("azp is not this client");
  if (typeof claims.exp !== "number" || claims.exp + CLOCK_SKEW_SECONDS <= expect.now) fail("expired");
  if (typeof claims.iat !== "number" || claims.iat - CLOCK_SKEW_SECONDS > expect.now) fail("issued in the future");
  if (expect.nonce !== undefined && claims.nonce !== expect.nonce) fail("nonce does not match");
  if (expect.sub !== undefined && claims.sub !== expect.sub) fail("sub changed");
  return claims as unknown as IdClaims;
}

/** When to renew an access token that lives `expiresIn` seconds: a minute (at most a fifth) before its end. */
export function renewalDelayMs(expiresIn: number): number {
  const margin = Math.min(60, expiresIn / 5);
  return Math.max(5, expiresIn - margin) * 1000;
}

// ---------------------------------------------------------------- the client

export type AuthStatus = "unknown" | "signed_out" | "signed_in";

export interface AuthSnapshot {
  status: AuthStatus;
  claims: IdClaims | null;
}

export class OidcClient {
  readonly clientId: string;
  readonly redirectUri: string;
  readonly postLogoutRedirectUri: string;
  private readonly origin: string;
  private readonly scopes: string;
  private readonly fetchImpl: typeof fetch;
  private readonly crypto: Pick<Crypto, "getRandomValues" | "subtle">;
  private readonly storage: NonNullable<OidcOptions["storage"]> | null;
  private readonly navigate: (url: string) => void;
  private readonly now: () => number;
  private readonly setTimer: (callback: () => void, ms: number) => unknown;
  private readonly clearTimer: (handle: unknown) => void;
  private readonly locale: () => string;
  private readonly tabId: () => string;

  private metadata: Promise<ProviderMetadata> | null = null;
  private accessTokenValue: string | null = null;
  private accessTokenExpiresAt = 0;
  private idToken: string | null = null;
  private claimsValue: IdClaims | null = null;
  private statusValue: AuthStatus = "unknown";
  private refreshing: Promise<boolean> | null = null;
  private timer: unknown = null;
  private readonly listeners = new Set<(snapshot: AuthSnapshot) => void>();

  constructor(options: OidcOptions) {
    this.origin = options.origin.replace(/\/+$/, "");
    this.clientId = options.clientId ?? DEFAULT_CLIENT_ID;
    this.scopes = options.scopes ?? DEFAULT_SCOPES;
    this.redirectUri = `${this.origin}/auth/callback`;
    this.postLogoutRedirectUri = `${this.origin}/`;
    this.fetchImpl = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.crypto = options.crypto ?? globalThis.crypto;
    this.storage = options.storage !== undefined ? options.storage : safeSessionStorage();
    this.navigate = options.navigate ?? ((url) => window.location.assign(url));
    this.now = options.now ?? Date.now;
    this.setTimer = options.setTimer ?? ((callback, ms) => setTimeout(callback, ms));
    this.clearTimer = options.clearTimer ?? ((handle) => clearTimeout(handle as ReturnType<typeof setTimeout>));
    this.locale = options.locale ?? (() => "zh-CN");
    this.tabId = options.tabId ?? browserTabId;
  }

  // -- state

  get status(): AuthStatus {
    return this.statusValue;
  }

  get claims(): IdClaims | null {
    return this.claimsValue;
  }

  /** The access token for /api/v1, or null when signed out or expired. */
  accessToken(): string | null {
    if (!this.accessTokenValue || this.now() >= this.accessTokenExpiresAt) return null;
    return this.accessTokenValue;
  }

  /** Called with every change of status or claims; answers the unsubscribe. */
  subscribe(listener: (snapshot: AuthSnapshot) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private announce(): void {
    const snapshot = { status: this.statusValue, claims: this.claimsValue };
    for (const listener of this.listeners) listener(snapshot);
  }

  // -- discovery

  /** The provider's discovery document, from /.well-known/openid-configuration on this origin. */
  discover(): Promise<ProviderMetadata> {
    if (!this.metadata) {
      this.metadata = this.loadMetadata().catch((error: unknown) => {
        this.metadata = null; // try again next time
        throw error;
      });
    }
    return this.metadata;
  }

  private async loadMetadata(): Promise<ProviderMetadata> {
    let response: Response;
    try {
      response = await this.fetchImpl(`${this.origin}/.well-known/openid-configuration`, {
        headers: { Accept: "application/json" },
        credentials: "omit",
      });
    } catch (error) {
      throw new OidcError("network", error instanceof Error ? error.message : String(error));
    }
    if (!response.ok) throw new OidcError("discovery", `discovery answered ${response.status}`, response.status);
    let document: Partial<ProviderMetadata>;
    try {
      document = (await response.json()) as Partial<ProviderMetadata>;
    } catch {
      throw new OidcError("discovery", "the discovery document is not JSON");
    }
    for (const key of ["issuer", "authorization_endpoint", "token_endpoint", "end_session_endpoint"] as const) {
      if (typeof document[key] !== "string" || !document[key]) throw new OidcError("discovery", `no ${key}`);
    }
    if (document.code_challenge_methods_supported && !document.code_challenge_methods_supported.includes("S256")) {
      throw new OidcError("discovery", "the provider does not take S256");
    }
    return document as ProviderMetadata;
  }

  /**
   * The token endpoint as this page calls it: the discovery document names
   * the provider's public URL (its issuer); the portal is served by the same
   * gateway, so the call goes to that path on this origin (in development the
   * dev server passes it on), never to another origin.
   */
  private tokenUrl(metadata: ProviderMetadata): string {
    const url = new URL(metadata.token_endpoint, this.origin);
    return `${this.origin}${url.pathname}`;
  }

  // -- sign-in

  private random(bytes = 32): string {
    const buffer = new Uint8Array(bytes);
    this.crypto.getRandomValues(buffer);
    return base64url(buffer);
  }

  /** The authorization request's URL; remembers its verifier and nonce under its state. */
  async authorizationUrl(returnTo = "/"): Promise<string> {
    const metadata = await this.discover();
    // 32 random octets each: a 43-character verifier (RFC 7636 4.1).
    const verifier = this.random();
    const state = this.random();
    const nonce = this.random();
    const challenge = await codeChallenge(verifier, this.crypto);
    this.forgetStalePending();
    const pending: Pending = { nonce, verifier, returnTo: safeReturnPath(returnTo), createdAt: this.now() };
    this.storage?.setItem(PENDING_PREFIX + state, JSON.stringify(pending));

    const url = new URL(metadata.authorization_endpoint);
    const params = {
      response_type: "code",
      client_id: this.clientId,
      redirect_uri: this.redirectUri,
      scope: this.scopes,
      state,
      nonce,
      code_challenge: challenge,
      code_challenge_method: "S256",
      ui_locales: this.locale(),
    };
    for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
    return url.toString();
  }

  /** Leaves for the provider's sign-in; comes back to `returnTo` (a path of this site). */
  async signIn(returnTo = "/"): Promise<void> {
    this.navigate(await this.authorizationUrl(returnTo));
  }

  private forgetStalePending(): void {
    if (!this.storage) return;
    const stale: string[] = [];
    for (let i = 0; i < this.storage.length; i++) {
      const key = this.storage.key(i);
      if (!key?.startsWith(PENDING_PREFIX)) continue;
      const pending = readPending(this.storage.getItem(key));
      if (!pending || this.now() - pending.createdAt > PENDING_MAX_AGE_MS) stale.push(key);
    }
    for (const key of stale) this.storage.removeItem(key);
  }

  /**
   * Finishes sign-in at the redirect URI: checks state (and iss), exchanges
   * the code, checks the ID token. Answers the path to return to. Throws
   * OidcError; the provider's own errors keep their OAuth code.
   */
  async handleCallback(callbackUrl: string): Promise<string> {
    const params = new URL(callbackUrl, this.origin).searchParams;
    const state = params.get("state") ?? "";
    const key = PENDING_PREFIX + state;
    const pending = state ? readPending(this.storage?.getItem(key) ?? null) : null;
    // Single use, whatever follows.
    if (state) this.storage?.removeItem(key);
    if (!pending || this.now() - pending.createdAt > PENDING_MAX_AGE_MS) {
      throw new OidcError("state_mismatch", "no sign-in of this tab is waiting for this answer");
    }
    const metadata = await this.discover();
    const iss = params.get("iss");
    // RFC 9207: the answer names its issuer; a different one is a mix-up.
    if (iss !== null ? iss !== metadata.issuer : metadata.authorization_response_iss_parameter_supported) {
      throw new OidcError("issuer_mismatch", "the answer is not from tongban's provider");
    }
    const error = params.get("error");
    if (error) throw new OidcError(error, params.get("error_description") ?? error);
    const code = params.get("code");
    if (!code) throw new OidcError("missing_code", "the answer carries no code");

    const answer = await this.tokenRequest(metadata, {
      grant_type: "authorization_code",
      code,
      redirect_uri: this.redirectUri,
      code_verifier: pending.verifier,
      client_id: this.clientId,
    });
    if (!answer.id_token) throw new OidcError("bad_id_token", "no ID token");
    const claims = checkIdToken(answer.id_token, {
      issuer: metadata.issuer,
      clientId: this.clientId,
      nonce: pending.nonce,
      now: Math.floor(this.now() / 1000),
    });
    this.accept(answer, claims);
    return pending.returnTo;
  }

  // -- tokens

  private async tokenRequest(metadata: ProviderMetadata, form: Record<string, string>): Promise<TokenAnswer> {
    let response: Response;
    try {
      response = await this.fetchImpl(this.tokenUrl(metadata), {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded", Accept: "application/json" },
        body: new URLSearchParams(form).toString(),
        credentials: "omit",
        cache: "no-store",
      });
    } catch (error) {
      throw new OidcError("network", error instanceof Error ? error.message : String(error));
    }
    let body: Record<string, unknown> = {};
    try {
      body = (await response.json()) as Record<string, unknown>;
    } catch {
      // described by the status below
    }
    if (!response.ok) {
      const code = typeof body.error === "string" ? body.error : `http_${response.status}`;
      const description = typeof body.error_description === "string" ? body.error_description : code;
      throw new OidcError(code, description, response.status);
    }
    if (
      typeof body.access_token !== "string" ||
      typeof body.expires_in !== "number" ||
      typeof body.token_type !== "string" ||
      body.token_type.toLowerCase() !== "bearer"
    ) {
      throw new OidcError("bad_answer", "the token endpoint's answer lacks a bearer access token");
    }
    return body as unknown as TokenAnswer;
  }

  private accept(answer: TokenAnswer, claims: IdClaims | null): void {
    this.accessTokenValue = answer.access_token;
    this.accessTokenExpiresAt = this.now() + answer.expires_in * 1000;
    if (answer.refresh_token) {
      this.storage?.setItem(REFRESH_TOKEN_KEY, JSON.stringify({ tab: this.tabId(), token: answer.refresh_token }));
    }
    if (answer.id_token && claims) {
      this.idToken = answer.id_token;
      this.claimsValue = claims;
    }
    this.statusValue = "signed_in";
    this.schedule(answer.expires_in);
    this.announce();
  }

  private schedule(expiresIn: number): void {
    if (this.timer !== null) this.clearTimer(this.timer);
    this.timer = this.setTimer(() => {
      this.timer = null;
      void this.renewQuietly(expiresIn);
    }, renewalDelayMs(expiresIn));
  }

  /** The scheduled renewal: a failed one is tried again while the token lasts. */
  private async renewQuietly(lastExpiresIn: number): Promise<void> {
    try {
      await this.refresh();
    } catch (error) {
      // invalid_grant and the like have signed out already (refresh did); no
      // answer, a busy or failing gateway is tried again while the token lives.
      if (isTransient(error) && this.accessToken()) {
        this.timer = this.setTimer(() => {
          this.timer = null;
          void this.renewQuietly(lastExpiresIn);
        }, 15_000);
      }
    }
  }

  /**
   * Exchanges the refresh token for new tokens (the provider rotates it).
   * Calls at the same time share one request. A refusal by the provider
   * (invalid_grant: reused, revoked or expired) signs out here; no answer, a
   * 429 or a 5xx keeps the state (see isTransient). Resolves true when renewed, false with no refresh
   * token.
   */
  refresh(): Promise<boolean> {
    if (!this.refreshing) {
      this.refreshing = this.doRefresh().finally(() => {
        this.refreshing = null;
      });
    }
    return this.refreshing;
  }

  private async doRefresh(): Promise<boolean> {
    const refreshToken = this.storedRefreshToken();
    if (!refreshToken) {
      this.clear();
      return false;
    }
    const metadata = await this.discover();
    let answer: TokenAnswer;
    let claims: IdClaims | null = null;
    try {
      answer = await this.tokenRequest(metadata, {
        grant_type: "refresh_token",
        refresh_token: refreshToken,
        client_id: this.clientId,
      });
      if (answer.id_token) {
        claims = checkIdToken(answer.id_token, {
          issuer: metadata.issuer,
          clientId: this.clientId,
          sub: this.claimsValue?.sub,
          now: Math.floor(this.now() / 1000),
        });
        // Core 12.2: a nonce in a refreshed ID token must be the original one.
        if (claims.nonce !== undefined && this.claimsValue?.nonce !== undefined && claims.nonce !== this.claimsValue.nonce) {
          throw new OidcError("bad_id_token", "nonce changed");
        }
      }
    } catch (error) {
      if (!isTransient(error)) this.clear();
      throw error;
    }
    this.accept(answer, claims);
    return true;
  }

  /**
   * At start: renews quietly from the refresh token this tab kept, so a reload
   * stays signed in. Never throws; resolves with the status.
   */
  async restore(): Promise<AuthStatus> {
    if (this.statusValue === "signed_in") return this.statusValue;
    if (!this.storedRefreshToken()) {
      this.clear();
      return this.statusValue;
    }
    try {
      await this.refresh();
    } catch {
      if (this.statusValue === "unknown") this.clear();
    }
    return this.statusValue;
  }

  /**
   * After a 401 from the API: renews once. True when a new access token is
   * there to try the request again with.
   */
  async renewAfterUnauthorized(): Promise<boolean> {
    if (!this.storedRefreshToken()) return false;
    try {
      return await this.refresh();
    } catch {
      return false;
    }
  }

  /**
   * The refresh token this tab keeps. A browser copies sessionStorage into a
   * tab opened from this one; two tabs using one rotating refresh token would
   * look like a stolen token to the provider, which then ends the session of
   * both. So a token written by another tab is dropped here: the new tab signs
   * in afresh (without a password while the provider's session lasts).
   */
  private storedRefreshToken(): string | null {
    const text = this.storage?.getItem(REFRESH_TOKEN_KEY);
    if (!text) return null;
    try {
      const value = JSON.parse(text) as { tab?: unknown; token?: unknown };
      if (value.tab === this.tabId() && typeof value.token === "string" && value.token) return value.token;
    } catch {
      // not ours
    }
    this.storage?.removeItem(REFRESH_TOKEN_KEY);
    return null;
  }

  // -- sign-out

  /** Forgets every token of this tab (no call to the provider). */
  clear(): void {
    if (this.timer !== null) this.clearTimer(this.timer);
    this.timer = null;
    this.storage?.removeItem(REFRESH_TOKEN_KEY);
    this.accessTokenValue = null;
    this.accessTokenExpiresAt = 0;
    this.idToken = null;
    this.claimsValue = null;
    const changed = this.statusValue !== "signed_out";
    this.statusValue = "signed_out";
    if (changed) this.announce();
  }

  /** The end-session URL: with id_token_hint when this tab has an ID token, back to the home page. */
  async logoutUrl(): Promise<string> {
    const metadata = await this.discover();
    const url = new URL(metadata.end_session_endpoint);
    if (this.idToken) url.searchParams.set("id_token_hint", this.idToken);
    url.searchParams.set("client_id", this.clientId);
    url.searchParams.set("post_logout_redirect_uri", this.postLogoutRedirectUri);
    url.searchParams.set("ui_locales", this.locale());
    return url.toString();
  }

  /**
   * Signs out everywhere: forgets the tokens here, then leaves for the
   * provider's end-session endpoint, which ends the single sign-on session
   * (and with it every department system's) and comes back to the home page.
   */
  async signOut(): Promise<void> {
    let url: string;
    try {
      url = await this.logoutUrl();
    } catch (error) {
      this.clear();
      throw error;
    }
    this.clear();
    this.navigate(url);
  }
}

/** No answer, rate limited, or the gateway failing: worth trying again later, no reason to sign out. */
export function isTransient(error: unknown): boolean {
  if (!(error instanceof OidcError)) return false;
  if (error.code === "network") return true;
  return error.status !== null && (error.status === 429 || error.status >= 500);
}

function readPending(text: string | null): Pending | null {
  if (!text) return null;
  try {
    const value = JSON.parse(text) as Partial<Pending>;
    if (
      typeof value.nonce === "string" &&
      typeof value.verifier === "string" &&
      typeof value.returnTo === "string" &&
      typeof value.createdAt === "number"
    ) {
      return value as Pending;
    }
  } catch {
    // not ours
  }
  return null;
}

/** A path of this site to return to; anything else (another origin, "//host") becomes "/". */
export function safeReturnPath(value: string): string {
  if (!value.startsWith("/") || value.startsWith("//") || value.startsWith("/\\")) return "/";
  if (value.startsWith("/auth/callback")) return "/";
  return value;
}

const TAB_PREFIX = "tongban-tab:";

/**
 * An id that lives as long as the tab (window.name survives reloads and
 * same-site navigation, and is not copied into a new tab).
 */
function browserTabId(): string {
  if (!window.name.startsWith(TAB_PREFIX)) {
    const bytes = new Uint8Array(12);
    globalThis.crypto.getRandomValues(bytes);
    window.name = TAB_PREFIX + base64url(bytes);
  }
  return window.name.slice(TAB_PREFIX.length);
}

function safeSessionStorage(): Storage | null {
  try {
    return globalThis.sessionStorage ?? null;
  } catch {
    return null;
  }
}
