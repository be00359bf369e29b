import { createI18n } from "vue-i18n";

import en from "./en";
import zhCN, { type Messages } from "./zh-CN";

export const LOCALES = ["zh-CN", "en"] as const;
export type Locale = (typeof LOCALES)[number];
export const DEFAULT_LOCALE: Locale = "zh-CN";
export const LOCALE_STORAGE_KEY = "tongban.locale";

export function isLocale(value: unknown): value is Locale {
  return typeof value === "string" && (LOCALES as readonly string[]).includes(value);
}

function storage(): Storage | null {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    // Storage refused (privacy settings): the choice lasts for the page only.
    return null;
  }
}

/** The language chosen before on this device, else Chinese. */
export function savedLocale(): Locale {
  const saved = storage()?.getItem(LOCALE_STORAGE_KEY);
  return isLocale(saved) ? saved : DEFAULT_LOCALE;
}

export function createPortalI18n(locale: Locale = savedLocale()) {
  return createI18n<[Messages], Locale, false>({
    legacy: false,
    locale,
    fallbackLocale: DEFAULT_LOCALE,
    messages: { "zh-CN": zhCN, en },
    missingWarn: false,
    fallbackWarn: false,
  });
}

export type PortalI18n = ReturnType<typeof createPortalI18n>;

/**
 * Switches the language (`current` is the global locale, from
 * `useI18n({ useScope: "global" }).locale` or `i18n.global.locale`), marks the
 * document's language and remembers the choice.
 */
export function applyLocale(current: { value: string }, locale: Locale): void {
  current.value = locale;
  document.documentElement.lang = locale;
  try {
    storage()?.setItem(LOCALE_STORAGE_KEY, locale);
  } catch {
    // Quota or privacy mode: not remembered, still applied.
  }
}
