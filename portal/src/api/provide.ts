import { inject, type InjectionKey } from "vue";

import type { ApiClient } from "./client";
import { api } from "./index";

export const apiKey: InjectionKey<ApiClient> = Symbol("tongban.api");

/** The client provided by the app (a test provides its own), else the default. */
export function useApi(): ApiClient {
  return inject(apiKey, api);
}
