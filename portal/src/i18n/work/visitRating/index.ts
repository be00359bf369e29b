// The messages of the public page that rates a window visit, merged into the
// app's messages when that page is first shown (see ../index.ts for why).

import { useI18n } from "vue-i18n";

import en from "./en";
import zhCN from "./zh-CN";

export const visitRatingMessages = { "zh-CN": zhCN, en } as const;

const merged = new WeakSet<object>();

/** useI18n() for the rating page: the global composer, with its messages merged in once. */
export function useVisitRatingMessages() {
  const i18n = useI18n({ useScope: "global" });
  if (!merged.has(i18n)) {
    i18n.mergeLocaleMessage("zh-CN", visitRatingMessages["zh-CN"]);
    i18n.mergeLocaleMessage("en", visitRatingMessages.en);
    merged.add(i18n);
  }
  return i18n;
}
