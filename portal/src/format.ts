// Numbers as the portal shows them, in the reader's language.

/** 0.9655 → "96.6%" (zh-CN and en alike); null → null. */
export function formatPraiseRate(rate: number | null, locale: string): string | null {
  if (rate === null || !Number.isFinite(rate)) return null;
  return new Intl.NumberFormat(locale, {
    style: "percent",
    minimumFractionDigits: 0,
    maximumFractionDigits: 1,
  }).format(rate);
}

/** 4.25 → "4.3"; null → null. */
export function formatGrade(grade: number | null, locale: string): string | null {
  if (grade === null || !Number.isFinite(grade)) return null;
  return new Intl.NumberFormat(locale, {
    minimumFractionDigits: 1,
    maximumFractionDigits: 1,
  }).format(grade);
}

/** Amount in fen (1/100 yuan) → "12.50". */
export function formatYuan(fen: number, locale: string): string {
  return new Intl.NumberFormat(locale, {
    minimumFractionDigits: 2,
    maximumFractionDigits: 2,
  }).format(fen / 100);
}

/**
 * A link from the catalogue's data made safe to put in href: http(s) or a
 * path on this site; anything else (javascript:, data:) gives null.
 */
export function safeHref(url: string | null | undefined): string | null {
  if (!url) return null;
  const value = url.trim();
  if (value.startsWith("/") && !value.startsWith("//")) return value;
  try {
    const parsed = new URL(value);
    return parsed.protocol === "https:" || parsed.protocol === "http:" ? parsed.href : null;
  } catch {
    return null;
  }
}
