// The messages of the staff's and operators' pages, merged into the app's
// messages by the first such page that is shown. Every page under views/staff
// and views/operator (and their own components) imports this module, so the
// bundler puts these messages in the chunks of those pages only.

import { useI18n } from "vue-i18n";

import en from "./en";
import zhCN from "./zh-CN";

export const workMessages = { "zh-CN": zhCN, en } as const;

const merged = new WeakSet<object>();

/** useI18n() for a work page: the global composer, with the work messages merged in once. */
export function useWorkMessages() {
  const i18n = useI18n({ useScope: "global" });
  if (!merged.has(i18n)) {
    i18n.mergeLocaleMessage("zh-CN", workMessages["zh-CN"]);
    i18n.mergeLocaleMessage("en", workMessages.en);
    merged.add(i18n);
  }
  return i18n;
}
