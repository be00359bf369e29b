import { createI18n } from "vue-i18n";

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

// Chinese is the first language and comes with the app; another language's
// messages are a chunk of their own, read when that language is first chosen.
const loaders: Record<Locale, () => Promise<Messages>> = {
  "zh-CN": () => Promise.resolve(zhCN),
  en: () => import("./en").then((module) => module.default),
};

/** What loading and switching a language needs of vue-i18n's global composer. */
export interface LocaleHolder {
  locale: { value: string };
  mergeLocaleMessage(locale: Locale, messages: Messages): void;
}

const loaded = new WeakMap<LocaleHolder, Set<Locale>>();

/**
 * Makes `locale`'s messages available. They are merged, not set, so that
 * messages merged in by pages (the work pages' own) are kept.
 */
export async function loadLocaleMessages(i18n: LocaleHolder, locale: Locale): Promise<void> {
  let done = loaded.get(i18n);
  if (!done) {
    done = new Set([DEFAULT_LOCALE]);
    loaded.set(i18n, done);
  }
  if (done.has(locale)) return;
  i18n.mergeLocaleMessage(locale, await loaders[locale]());
  done.add(locale);
}

/** The portal's i18n in `locale` (the one chosen before, else Chinese), its messages loaded. */
export async function createPortalI18n(locale: Locale = savedLocale()) {
  const i18n = createI18n<[Messages], Locale, false>({
    legacy: false,
    locale: DEFAULT_LOCALE,
    fallbackLocale: DEFAULT_LOCALE,
    messages: { "zh-CN": zhCN } as Record<Locale, Messages>,
    missingWarn: false,
    fallbackWarn: false,
  });
  await loadLocaleMessages(i18n.global, locale);
  i18n.global.locale.value = locale;
  return i18n;
}

export type PortalI18n = Awaited<ReturnType<typeof createPortalI18n>>;

/**
 * Switches the language (`i18n` is the global composer, from
 * `useI18n({ useScope: "global" })` or `i18n.global`) once its messages are
 * loaded, marks the document's language and remembers the choice.
 */
export async function applyLocale(i18n: LocaleHolder, locale: Locale): Promise<void> {
  await loadLocaleMessages(i18n, locale);
  i18n.locale.value = locale;
  document.documentElement.lang = locale;
  try {
    storage()?.setItem(LOCALE_STORAGE_KEY, locale);
  } catch {
    // Quota or privacy mode: not remembered, still applied.
  }
}
