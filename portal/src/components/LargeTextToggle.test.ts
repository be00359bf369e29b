import { readFileSync } from "node:fs";
import { resolve } from "node:path";

import { beforeEach, describe, expect, it } from "vitest";

import { LARGE_TEXT_CLASS, LARGE_TEXT_STORAGE_KEY, restoreLargeText, setLargeText } from "@/preferences/largeText";
import { portalMount } from "@/testing/support";

import LargeTextToggle from "./LargeTextToggle.vue";

const root = document.documentElement;

beforeEach(() => {
  localStorage.clear();
  setLargeText(false);
  localStorage.clear();
});

describe("LargeTextToggle", () => {
  it("is a toggle button whose state is aria-pressed", async () => {
    const { wrapper } = await portalMount(LargeTextToggle);
    const button = wrapper.get("button");
    expect(button.text()).toContain("大字模式");
    expect(button.attributes("type")).toBe("button");
    expect(button.attributes("aria-pressed")).toBe("false");

    await button.trigger("click");
    expect(button.attributes("aria-pressed")).toBe("true");
    // The name stays the same; only the state changes.
    expect(button.text()).toContain("大字模式");
  });

  it("scales the root font size and remembers the choice", async () => {
    const { wrapper } = await portalMount(LargeTextToggle);
    await wrapper.get("button").trigger("click");
    expect(root.classList.contains(LARGE_TEXT_CLASS)).toBe(true);
    expect(localStorage.getItem(LARGE_TEXT_STORAGE_KEY)).toBe("on");

    await wrapper.get("button").trigger("click");
    expect(root.classList.contains(LARGE_TEXT_CLASS)).toBe(false);
    expect(localStorage.getItem(LARGE_TEXT_STORAGE_KEY)).toBe("off");
  });

  it("comes back on at the next visit", async () => {
    localStorage.setItem(LARGE_TEXT_STORAGE_KEY, "on");
    restoreLargeText();
    expect(root.classList.contains(LARGE_TEXT_CLASS)).toBe(true);
    const { wrapper } = await portalMount(LargeTextToggle);
    expect(wrapper.get("button").attributes("aria-pressed")).toBe("true");
  });

  it("sets the larger size in the style sheet under that class", () => {
    // Vitest leaves style sheets out of modules; read the file itself (the
    // tests run from the portal's folder).
    const css = readFileSync(resolve(process.cwd(), "src/styles/base.css"), "utf8");
    expect(css).toMatch(/html\.large-text\s*\{\s*font-size:\s*125%;/);
  });
});
