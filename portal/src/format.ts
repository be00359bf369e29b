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

const CHINA = "Asia/Shanghai";

/** "2026-12-02" → "2026/12/2" (zh-CN) or "2 Dec 2026" (en); a day, shown as it is written. */
export function formatDay(day: string | null | undefined, locale: string): string {
  if (!day) return "—";
  const match = /^(\d{4})-(\d{2})-(\d{2})/.exec(day);
  if (!match) return day;
  const date = new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])));
  return new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeZone: "UTC" }).format(date);
}

/** An instant, shown in China's time (where every case is handled). */
export function formatInstant(instant: string | null | undefined, locale: string): string {
  if (!instant) return "—";
  const date = new Date(instant);
  if (Number.isNaN(date.getTime())) return instant;
  return new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeStyle: "short", timeZone: CHINA }).format(date);
}

/** An instant's time of day in China's time, to the second: "14:03:07". */
export function formatClock(instant: string | null | undefined, locale: string): string {
  if (!instant) return "—";
  const date = new Date(instant);
  if (Number.isNaN(date.getTime())) return instant;
  return new Intl.DateTimeFormat(locale, { hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23", timeZone: CHINA }).format(date);
}
