// What the unit tests share: a gateway answered from a table, and mounting with
// the portal's own i18n, a router in memory and that gateway's client (one
// component, or the whole app at a path); a clean page; labelled controls.

import { mount, type ComponentMountingOptions } from "@vue/test-utils";
import { expect, vi } from "vitest";
import type { Component } from "vue";
import { createMemoryHistory, type Router } from "vue-router";

import { ApiClient } from "@/api/client";
import { apiKey } from "@/api/provide";
import App from "@/App.vue";
import { authKey, type Auth } from "@/auth";
import { createPortalI18n, type Locale } from "@/i18n";
import { createPortalRouter } from "@/router";

export interface Answer {
  status?: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface Recorded {
  method: string;
  url: URL;
  headers: Headers;
  body: unknown;
}

/**
 * A fetch that answers "GET /api/v1/regions"-style keys (the path, query
 * ignored) from `table`; a function gets the request. Unknown paths are 404
 * in the gateway's error shape. Every request is recorded.
 */
export function fakeGateway(table: Record<string, Answer | ((request: Recorded) => Answer)>) {
  const requests: Recorded[] = [];
  const fetch = async (input: RequestInfo | URL, init: RequestInit = {}): Promise<Response> => {
    const url = new URL(String(input), "http://portal.test");
    const method = (init.method ?? "GET").toUpperCase();
    const recorded: Recorded = {
      method,
      url,
      headers: new Headers(init.headers),
      body: typeof init.body === "string" ? JSON.parse(init.body) : undefined,
    };
    requests.push(recorded);
    const entry = table[`${method} ${url.pathname}`];
    const answer: Answer =
      typeof entry === "function"
        ? entry(recorded)
        : (entry ?? { status: 404, body: { error: { code: "not_found", message: "no route", fields: {} } } });
    const status = answer.status ?? 200;
    return new Response(status === 204 ? null : JSON.stringify(answer.body ?? {}), {
      status,
      headers: { "Content-Type": "application/json", ...answer.headers },
    });
  };
  return { fetch: fetch as typeof globalThis.fetch, requests };
}

export function apiError(status: number, code: string, message = code, fields: Record<string, string> = {}): Answer {
  return { status, body: { error: { code, message, fields } } };
}

export async function portalMount<T extends Component>(
  component: T,
  options: ComponentMountingOptions<T> & {
    locale?: Locale;
    client?: ApiClient;
    path?: string;
  } = {},
): Promise<{ wrapper: ReturnType<typeof mount<T>>; router: Router }> {
  const { locale = "zh-CN", client = new ApiClient({ fetch: fakeGateway({}).fetch }), path = "/", ...rest } = options;
  const i18n = await createPortalI18n(locale);
  const router = createPortalRouter(createMemoryHistory());
  await router.push(path);
  await router.isReady();
  const wrapper = mount(component, {
    ...rest,
    global: {
      ...rest.global,
      plugins: [i18n, router, ...(rest.global?.plugins ?? [])],
      provide: { [apiKey as symbol]: client, ...rest.global?.provide },
    },
  } as ComponentMountingOptions<T>);
  return { wrapper: wrapper as ReturnType<typeof mount<T>>, router };
}

/** Lets pending promises and Vue's updates settle. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setTimeout(resolve, 0));
}

export type GatewayTable = Record<string, Answer | ((request: Recorded) => Answer)>;

/**
 * The whole app at `path` on `gateway`, attached to the document (so focus
 * can be seen), signed in as `auth` when given, settled.
 */
export async function openApp(
  path: string,
  gateway: ReturnType<typeof fakeGateway>,
  options: { auth?: Auth; locale?: Locale; provide?: Record<symbol, unknown> } = {},
) {
  const { auth, locale = "zh-CN", provide = {} } = options;
  const { wrapper, router } = await portalMount(App, {
    path,
    locale,
    client: new ApiClient({ fetch: gateway.fetch }),
    attachTo: document.body,
    global: { provide: { ...(auth ? { [authKey as symbol]: auth } : {}), ...provide } },
  });
  await settle();
  return { wrapper, router, requests: gateway.requests };
}

/** A clean page before each test: nothing mounted, nothing stored, no scrolling (jsdom has no layout). */
export function resetPage(): void {
  vi.spyOn(window, "scrollTo").mockImplementation(() => undefined);
  document.body.innerHTML = "";
  localStorage.clear();
  sessionStorage.clear();
}

/** Every input, select and textarea has a label that names it. */
export function expectLabelled(root: Element): void {
  for (const control of root.querySelectorAll("input, select, textarea")) {
    const id = control.getAttribute("id");
    const labelled = (id && root.querySelector(`label[for="${id}"]`)) || control.closest("label");
    expect(labelled, control.outerHTML).toBeTruthy();
  }
}
