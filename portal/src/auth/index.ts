// The app's sign-in state for Vue: one OidcClient, its status and claims as
// reactive values, and the route guard of the pages behind sign-in.

import { inject, readonly, shallowRef, type InjectionKey, type Ref } from "vue";
import { loadRouteLocation, type Router } from "vue-router";

import { decodeJwtClaims, OidcClient, type AuthStatus, type IdClaims } from "./oidc";

export * from "./oidc";

export type ViewerKind = "citizen" | "staff" | "operator";

/**
 * Who is signed in, as the API sees them: the access token's `kind`, `roles`
 * and `dept` (window_clerk, approver, dept_admin, agent). The ID token's
 * `roles` and `department_code` (scope staff) stand in where the access token
 * is not a readable JWT. Read only to choose pages and links; the API checks
 * every call itself and answers 403 where this guess is wrong.
 */
export interface Viewer {
  kind: ViewerKind;
  roles: string[];
  department: string | null;
}

const KINDS: readonly string[] = ["citizen", "staff", "operator"];

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
}

/** The viewer named by an access token (and the ID token's claims), or null. */
export function viewerOf(accessToken: string | null, idClaims: IdClaims | null): Viewer | null {
  let access: Record<string, unknown> = {};
  if (accessToken) {
    try {
      access = decodeJwtClaims(accessToken);
    } catch {
      access = {};
    }
  }
  const kind = typeof access.kind === "string" && KINDS.includes(access.kind) ? (access.kind as ViewerKind) : null;
  const roles = stringList(access.roles).length ? stringList(access.roles) : stringList(idClaims?.roles);
  const department =
    (typeof access.dept === "string" && access.dept) || (typeof idClaims?.department_code === "string" && idClaims.department_code) || null;
  if (kind) return { kind, roles, department };
  // No kind in hand: a staff ID token still says so by its department and roles.
  if (idClaims?.department_code) return { kind: "staff", roles, department };
  return idClaims ? { kind: "citizen", roles: [], department: null } : null;
}

/** Whether the viewer may open a page of `meta.kinds` and `meta.roles` (any one of them). */
export function viewerMay(viewer: Viewer | null, kinds?: readonly ViewerKind[], roles?: readonly string[]): boolean {
  if (!kinds && !roles) return true;
  if (!viewer) return false;
  if (kinds && !kinds.includes(viewer.kind)) return false;
  // Roles narrow staff only: an operator is allowed where the kind lets them in.
  if (roles && viewer.kind === "staff" && !roles.some((role) => viewer.roles.includes(role))) return false;
  return true;
}

export interface Auth {
  client: OidcClient;
  status: Readonly<Ref<AuthStatus>>;
  claims: Readonly<Ref<IdClaims | null>>;
  /** Who is signed in (kind, roles, department), or null when signed out. */
  viewer: Readonly<Ref<Viewer | null>>;
  /** Resolves once the stored refresh token (if any) has been tried. */
  ready: Promise<AuthStatus>;
  signIn(returnTo?: string): Promise<void>;
  signOut(): Promise<void>;
}

/** Wraps a client; `restore` starts at once (a reload stays signed in). */
export function createAuth(client: OidcClient): Auth {
  const status = shallowRef<AuthStatus>(client.status);
  const claims = shallowRef<IdClaims | null>(client.claims);
  const viewer = shallowRef<Viewer | null>(null);
  client.subscribe((snapshot) => {
    status.value = snapshot.status;
    claims.value = snapshot.claims;
    viewer.value = snapshot.status === "signed_in" ? viewerOf(client.accessToken(), snapshot.claims) : null;
  });
  return {
    client,
    status: readonly(status),
    claims: readonly(claims) as Readonly<Ref<IdClaims | null>>,
    viewer: readonly(viewer) as Readonly<Ref<Viewer | null>>,
    ready: client.restore(),
    signIn: (returnTo) => client.signIn(returnTo),
    signOut: () => client.signOut(),
  };
}

export const authKey: InjectionKey<Auth> = Symbol("tongban.auth");

/** The app's sign-in state, or null where none is provided (public pages in tests). */
export function useAuth(): Auth | null {
  return inject(authKey, null);
}

/**
 * Pages whose route has `meta.requiresAuth` need a signed-in user: a signed-out
 * one is sent to sign in, and comes back to the page asked for. Pages with
 * `meta.kinds` (and `meta.roles`) are for those viewers only: anyone else sees
 * the "not for your account" page.
 */
export function guardRoutes(router: Router, auth: Auth): void {
  router.beforeEach(async (to) => {
    if (!to.matched.some((record) => record.meta.requiresAuth)) return true;
    // The page's code is read while the kept sign-in is renewed, not after it;
    // the navigation itself reports a chunk that fails to load.
    loadRouteLocation(to).catch(() => undefined);
    const status = await auth.ready;
    if (status === "signed_in" || auth.status.value === "signed_in") {
      const { kinds, roles } = to.meta;
      if (viewerMay(auth.viewer.value, kinds, roles)) return true;
      return { name: "forbidden", query: { page: to.fullPath } };
    }
    try {
      await auth.signIn(to.fullPath);
      return false; // the page is leaving for the provider
    } catch {
      // The provider cannot be reached: say so on a page of our own.
      return { name: "sign-in", query: { return_to: to.fullPath, failed: "1" } };
    }
  });
}

declare module "vue-router" {
  interface RouteMeta {
    /** Only for a signed-in user (see guardRoutes). */
    requiresAuth?: boolean;
    /** Only for these kinds of user (with requiresAuth). */
    kinds?: ViewerKind[];
    /** Staff only with one of these roles (with requiresAuth). */
    roles?: string[];
  }
}
