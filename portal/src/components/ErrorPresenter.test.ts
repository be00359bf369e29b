import { flushPromises } from "@vue/test-utils";
import { afterEach, describe, expect, it, vi } from "vitest";

import { ApiError, NETWORK_ERROR_STATUS } from "@/api/client";
import { portalMount } from "@/testing/support";

import ErrorPresenter from "./ErrorPresenter.vue";
import { signInKey } from "./errorKind";

function failure(status: number, extra: Partial<ConstructorParameters<typeof ApiError>[0]> = {}): ApiError {
  return new ApiError({ status, code: "x", message: "server words", requestId: "req-42", ...extra });
}

async function show(error: unknown, props: Record<string, unknown> = {}, options: { locale?: "zh-CN" | "en"; provide?: Record<symbol, unknown> } = {}) {
  const { wrapper } = await portalMount(ErrorPresenter, {
    props: { error, ...props },
    locale: options.locale ?? "zh-CN",
    global: { provide: options.provide ?? {} },
  });
  return wrapper;
}

afterEach(() => {
  vi.useRealTimers();
});

describe("ErrorPresenter", () => {
  it("announces what happened as an alert, with the request id for the help desk", async () => {
    const wrapper = await show(failure(503));
    const alert = wrapper.get("[role=alert]");
    expect(alert.get("h2").text()).toBe("服务暂时不可用");
    expect(wrapper.text()).toContain("请求编号：req-42");
  });

  it("401: offers sign-in again when the app can start it", async () => {
    const signIn = vi.fn();
    const wrapper = await show(failure(401), {}, { provide: { [signInKey as symbol]: signIn } });
    expect(wrapper.text()).toContain("登录已失效");
    await wrapper.get("[data-action=sign-in]").trigger("click");
    expect(signIn).toHaveBeenCalledOnce();
  });

  it("401: without a sign-in flow, says so and offers no dead button", async () => {
    const wrapper = await show(failure(401));
    expect(wrapper.text()).toContain("请重新登录");
    expect(wrapper.find("[data-action=sign-in]").exists()).toBe(false);
    expect(wrapper.find("[data-action=retry]").exists()).toBe(false);
  });

  it("403: explains and leads back home, without a retry", async () => {
    const wrapper = await show(failure(403), { retry: vi.fn() });
    expect(wrapper.text()).toContain("没有办理权限");
    expect(wrapper.get("[data-action=home]").attributes("href")).toBe("/");
    expect(wrapper.find("[data-action=retry]").exists()).toBe(false);
  });

  it("404: says it is not found and leads back home", async () => {
    const wrapper = await show(failure(404));
    expect(wrapper.get("h2").text()).toBe("未找到相关内容");
    expect(wrapper.find("[data-action=home]").exists()).toBe(true);
  });

  it("409: offers to reload to see the current state", async () => {
    const retry = vi.fn();
    const wrapper = await show(failure(409), { retry });
    expect(wrapper.text()).toContain("状态已发生变化");
    const button = wrapper.get("[data-action=retry]");
    expect(button.text()).toBe("刷新");
    await button.trigger("click");
    expect(retry).toHaveBeenCalledOnce();
  });

  it("422: lists each field's reason under the field's name, linked to its input", async () => {
    const input = document.createElement("input");
    input.id = "search-q";
    document.body.append(input);
    const error = failure(422, {
      fields: { q: "Longer than maximum length 100.", page_size: "Must be at most 100.", _schema: "unknown field" },
    });
    const wrapper = await show(error, { fieldIds: { q: "search-q" } }, {});

    const items = wrapper.findAll("[data-field]");
    expect(items.map((item) => item.text())).toEqual([
      "关键词：Longer than maximum length 100.",
      "每页条数：Must be at most 100.",
      "unknown field",
    ]);
    const link = wrapper.get("[data-field=q] a");
    expect(link.attributes("href")).toBe("#search-q");
    await link.trigger("click");
    expect(document.activeElement).toBe(input);
    expect(wrapper.find("[data-field=page_size] a").exists()).toBe(false);
    input.remove();
  });

  it("429: tells the wait in seconds and offers a retry only when it is over", async () => {
    vi.useFakeTimers();
    const retry = vi.fn();
    const wrapper = await show(failure(429, { retryAfter: 3 }), { retry });
    expect(wrapper.text()).toContain("请在 3 秒后重试");
    const button = wrapper.get("[data-action=retry]");
    expect(button.attributes("disabled")).toBeDefined();
    expect(button.text()).toBe("3 秒后可重试");

    vi.advanceTimersByTime(1000);
    await flushPromises();
    expect(wrapper.get("[data-action=retry]").text()).toBe("2 秒后可重试");

    vi.advanceTimersByTime(2000);
    await flushPromises();
    const ready = wrapper.get("[data-action=retry]");
    expect(ready.attributes("disabled")).toBeUndefined();
    expect(ready.text()).toBe("重试");
    await ready.trigger("click");
    expect(retry).toHaveBeenCalledOnce();
    // The announced wait stays as first said; only the button counts down.
    expect(wrapper.get("[role=alert]").text()).toContain("请在 3 秒后重试");
  });

  it("429 without Retry-After: asks to wait a moment, retry at once", async () => {
    const wrapper = await show(failure(429), { retry: vi.fn() });
    expect(wrapper.text()).toContain("操作过于频繁");
    expect(wrapper.get("[data-action=retry]").attributes("disabled")).toBeUndefined();
  });

  it.each([
    [503, "服务暂时不可用"],
    [504, "服务响应超时"],
    [502, "服务暂时不可用"],
  ])("%i: asks to try again and retries", async (status, title) => {
    const retry = vi.fn();
    const wrapper = await show(failure(status), { retry });
    expect(wrapper.get("h2").text()).toBe(title);
    await wrapper.get("[data-action=retry]").trigger("click");
    expect(retry).toHaveBeenCalledOnce();
  });

  it("no answer: asks to check the connection, without a request id", async () => {
    const wrapper = await show(failure(NETWORK_ERROR_STATUS), { retry: vi.fn() });
    expect(wrapper.text()).toContain("无法连接服务器");
    expect(wrapper.text()).not.toContain("req-42");
  });

  it("anything else is an unexpected error", async () => {
    const wrapper = await show(new TypeError("x is undefined"), { retry: vi.fn() });
    expect(wrapper.get("h2").text()).toBe("系统出错");
    expect(wrapper.text()).not.toContain("x is undefined");
  });

  it("speaks English when asked", async () => {
    const wrapper = await show(failure(429, { retryAfter: 1 }), {}, { locale: "en" });
    expect(wrapper.get("h2").text()).toBe("Too many requests");
    expect(wrapper.text()).toContain("Please try again in 1 second.");
    const fields = await show(failure(422, { fields: { q: "too long" } }), {}, { locale: "en" });
    expect(fields.get("[data-field=q]").text()).toBe("Keywords: too long");
  });

  it("fits the page's outline", async () => {
    const wrapper = await show(failure(404), { headingLevel: 3 });
    expect(wrapper.find("h3").exists()).toBe(true);
    expect(wrapper.find("h2").exists()).toBe(false);
  });
});
