import { afterEach, describe, expect, it, vi } from "vitest";

import en from "./en";
import { createPortalI18n, LOCALES } from "./index";
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

  it.each(LOCALES)("every %s message compiles and fills in its values", (locale) => {
    const warn = vi.spyOn(console, "warn");
    const error = vi.spyOn(console, "error");
    const { t } = createPortalI18n(locale).global;
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

  it.each(LOCALES)("every %s message compiles and fills in its values once merged", (locale) => {
    const warn = vi.spyOn(console, "warn");
    const error = vi.spyOn(console, "error");
    const i18n = createPortalI18n(locale).global;
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
