import { watchEffect } from "vue";
import { useI18n } from "vue-i18n";

/**
 * Keeps document.title as "<page> - <site>" while the calling view is shown.
 * `page` is read reactively, so a language switch or a loaded name updates it.
 * Every routed view calls this, so the next view's title replaces this one's.
 */
export function useDocumentTitle(page: () => string | null | undefined): void {
  const { t } = useI18n();
  watchEffect(() => {
    const name = page();
    const site = t("site.name");
    document.title = name ? `${name} - ${site}` : site;
  });
}
