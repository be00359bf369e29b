// The operator's side of the API: the published figures (好差评 indicators, the
// catalogue's consistency report) and the registration of department systems
// at tongban's OpenID Connect provider.

import type { ApiClient } from "./client";
import type { Page, PageRequest } from "./paging";
import type { CatalogStats, OidcClient, OidcClientBody, OidcClientSecret, RatingStats } from "./types";

type Signalled = { signal?: AbortSignal };
const id = encodeURIComponent;

export interface RatingFilters {
  from?: string;
  to?: string;
  store?: string;
  department?: string;
  region?: string;
  item?: string;
}

/** The indicators overall and per store, department, region and item. */
export function getRatingStats(api: ApiClient, filters: RatingFilters = {}, options: Signalled = {}): Promise<RatingStats> {
  return api.get<RatingStats>("/stats/ratings", { ...options, query: { ...filters } });
}

export function getCatalogStats(api: ApiClient, options: Signalled = {}): Promise<CatalogStats> {
  return api.get<CatalogStats>("/stats/catalog", options);
}

export function listOidcClients(api: ApiClient, paging: PageRequest = {}, options: Signalled = {}): Promise<Page<OidcClient>> {
  return api.get<Page<OidcClient>>("/admin/oidc-clients", { ...options, query: { ...paging } });
}

export function getOidcClient(api: ApiClient, clientId: string, options: Signalled = {}): Promise<OidcClient> {
  return api.get<OidcClient>(`/admin/oidc-clients/${id(clientId)}`, options);
}

/** Registers a system; the answer holds its client_secret this once. */
export function registerOidcClient(api: ApiClient, body: OidcClientBody): Promise<OidcClientSecret> {
  return api.post<OidcClientSecret>("/admin/oidc-clients", body);
}

export function updateOidcClient(api: ApiClient, clientId: string, body: OidcClientBody): Promise<OidcClient> {
  return api.put<OidcClient>(`/admin/oidc-clients/${id(clientId)}`, body);
}

export function deleteOidcClient(api: ApiClient, clientId: string): Promise<void> {
  return api.delete<void>(`/admin/oidc-clients/${id(clientId)}`);
}

/** A new secret; the old one stops working at once. */
export function rotateOidcClientSecret(api: ApiClient, clientId: string): Promise<OidcClientSecret> {
  return api.post<OidcClientSecret>(`/admin/oidc-clients/${id(clientId)}/secret`, {});
}
