import { beforeEach, describe, expect, it, vi } from "vitest";

import { LOCALE_STORAGE_KEY, savedLocale } from "@/i18n";
import { portalMount, settle } from "@/testing/support";

import LanguageSwitch from "./LanguageSwitch.vue";
import LargeTextToggle from "./LargeTextToggle.vue";

beforeEach(() => localStorage.clear());

describe("LanguageSwitch", () => {
  it("switches between Chinese and English, marks the page's language and remembers it", async () => {
    const { wrapper } = await portalMount({
      components: { LanguageSwitch, LargeTextToggle },
      template: "<div><LanguageSwitch /><LargeTextToggle /></div>",
    });
    const button = wrapper.get("button[lang]");
    expect(button.text()).toBe("English");
    expect(button.attributes("lang")).toBe("en");
    // The accessible name contains the visible words (WCAG 2.5.3).
    expect(button.attributes("aria-label")).toContain("English");

    await button.trigger("click");
    // English is read when first chosen: a module loaded on demand, which takes
    // as long as the machine lets it.
    await vi.waitFor(() => expect(document.documentElement.lang).toBe("en"), { timeout: 10_000 });
    await settle();
    expect(localStorage.getItem(LOCALE_STORAGE_KEY)).toBe("en");
    expect(savedLocale()).toBe("en");
    expect(wrapper.get("button[lang]").text()).toBe("中文");
    expect(wrapper.text()).toContain("Large text");

    await wrapper.get("button[lang]").trigger("click");
    await settle();
    expect(document.documentElement.lang).toBe("zh-CN");
    expect(wrapper.text()).toContain("大字模式");
  });

  it("starts in Chinese unless another language was chosen", () => {
    expect(savedLocale()).toBe("zh-CN");
    localStorage.setItem(LOCALE_STORAGE_KEY, "fr");
    expect(savedLocale()).toBe("zh-CN");
  });
});
