import { ApiClient } from "./client";

export * from "./client";
export * from "./paging";
export type * from "./types";

/**
 * The portal's client of the gateway on the same origin. Signed-out for now:
 * the public catalogue needs no token; sign-in supplies `accessToken`.
 */
export const api = new ApiClient();
