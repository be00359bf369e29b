import { afterEach, describe, expect, it, vi } from "vitest";

import en from "./en";
import { applyLocale, createPortalI18n, LOCALES } from "./index";
import { workMessages } from "./work";
import zhCN from "./zh-CN";

function leafKeys(messages: object, prefix = ""): string[] {
  return Object.entries(messages).flatMap(([key, value]) =>
    typeof value === "object" && value !== null ? leafKeys(value, `${prefix}${key}.`) : [`${prefix}${key}`],
  );
}

afterEach(() => vi.restoreAllMocks());

describe("messages", () => {
  it("has the same keys in Chinese and English", () => {
    expect(leafKeys(en).sort()).toEqual(leafKeys(zhCN).sort());
  });

  it.each(LOCALES)("every %s message compiles and fills in its values", async (locale) => {
    const warn = vi.spyOn(console, "warn");
    const error = vi.spyOn(console, "error");
    const { t } = (await createPortalI18n(locale)).global;
    const named = { n: 2, total: 3, first: 1, last: 3, max: 100, pages: 5, amount: "1.00", id: "r", rate: "90%", grade: "4.5", label: "L", text: "T", name: "N" };
    for (const key of leafKeys(zhCN)) {
      const text = t(key, named, 2);
      expect(text, key).not.toBe(key);
      expect(text, key).not.toMatch(/[{}]/);
    }
    expect(warn).not.toHaveBeenCalled();
    expect(error).not.toHaveBeenCalled();
  });
});

describe("the staff's and operators' messages", () => {
  it("has the same keys in Chinese and English, and none the portal's own messages have", () => {
    expect(leafKeys(workMessages.en).sort()).toEqual(leafKeys(workMessages["zh-CN"]).sort());
    const own = new Set(leafKeys(zhCN));
    expect(leafKeys(workMessages["zh-CN"]).filter((key) => own.has(key))).toEqual([]);
  });

  it.each(LOCALES)("every %s message compiles and fills in its values once merged", async (locale) => {
    const warn = vi.spyOn(console, "warn");
    const error = vi.spyOn(console, "error");
    const i18n = (await createPortalI18n(locale)).global;
    i18n.mergeLocaleMessage(locale, workMessages[locale]);
    const named = { n: 2, total: 3, first: 1, last: 3, id: "r", label: "L", text: "T", name: "N" };
    for (const key of leafKeys(workMessages["zh-CN"])) {
      const text = i18n.t(key, named, 2);
      expect(text, key).not.toBe(key);
      expect(text, key).not.toMatch(/[{}]/);
    }
    expect(warn).not.toHaveBeenCalled();
    expect(error).not.toHaveBeenCalled();
  });
});

describe("loading a language", () => {
  it("starts with Chinese only and reads English when it is chosen, keeping messages merged before", async () => {
    const i18n = (await createPortalI18n("zh-CN")).global;
    expect(i18n.te("site.name", "en")).toBe(false);
    i18n.mergeLocaleMessage("en", workMessages.en);

    await applyLocale(i18n, "en");
    expect(i18n.locale.value).toBe("en");
    expect(i18n.t("site.name")).toBe(en.site.name);
    expect(i18n.te(leafKeys(workMessages.en)[0]!, "en")).toBe(true);
  });
});
