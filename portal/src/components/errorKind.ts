import type { InjectionKey } from "vue";

import { isApiError, NETWORK_ERROR_STATUS } from "@/api";

/** The message families of ErrorPresenter (keys under errors.status). */
export type ErrorKind =
  | "network"
  | "400"
  | "401"
  | "403"
  | "404"
  | "409"
  | "422"
  | "429"
  | "503"
  | "504"
  | "other";

/** Which message a failure gets; anything that is not an ApiError is "other". */
export function errorKind(error: unknown): ErrorKind {
  if (!isApiError(error)) return "other";
  switch (error.status) {
    case NETWORK_ERROR_STATUS:
      return "network";
    case 400:
    case 401:
    case 403:
    case 404:
    case 409:
    case 422:
    case 429:
    case 503:
    case 504:
      return String(error.status) as ErrorKind;
    // A proxy in front of the gateway answers these when the gateway is away.
    case 502:
      return "503";
    case 408:
      return "504";
    default:
      return "other";
  }
}

/** Provided by the app to start sign-in again after a 401. */
export const signInKey: InjectionKey<() => void> = Symbol("tongban.signIn");
