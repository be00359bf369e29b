// The app's sign-in state for Vue: one OidcClient, its status and claims as
// reactive values, and the route guard of the pages behind sign-in.

import { inject, readonly, shallowRef, type InjectionKey, type Ref } from "vue";
import type { Router } from "vue-router";

import { OidcClient, type AuthStatus, type IdClaims } from "./oidc";

export * from "./oidc";

export interface Auth {
  client: OidcClient;
  status: Readonly<Ref<AuthStatus>>;
  claims: Readonly<Ref<IdClaims | null>>;
  /** Resolves once the stored refresh token (if any) has been tried. */
  ready: Promise<AuthStatus>;
  signIn(returnTo?: string): Promise<void>;
  signOut(): Promise<void>;
}

/** Wraps a client; `restore` starts at once (a reload stays signed in). */
export function createAuth(client: OidcClient): Auth {
  const status = shallowRef<AuthStatus>(client.status);
  const claims = shallowRef<IdClaims | null>(client.claims);
  client.subscribe((snapshot) => {
    status.value = snapshot.status;
    claims.value = snapshot.claims;
  });
  return {
    client,
    status: readonly(status),
    claims: readonly(claims) as Readonly<Ref<IdClaims | null>>,
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
 * one is sent to sign in, and comes back to the page asked for.
 */
export function guardRoutes(router: Router, auth: Auth): void {
  router.beforeEach(async (to) => {
    if (!to.matched.some((record) => record.meta.requiresAuth)) return true;
    const status = await auth.ready;
    if (status === "signed_in" || auth.status.value === "signed_in") return true;
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
  }
}
