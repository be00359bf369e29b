// Numbers as the portal shows them, in the reader's language.

// Making an Intl formatter costs far more than using one: each is made once
// per language and kind.
const formatters = new Map<string, Intl.NumberFormat>();

function numberFormat(locale: string, kind: string, options: Intl.NumberFormatOptions): Intl.NumberFormat {
  const key = `${locale} ${kind}`;
  let formatter = formatters.get(key);
  if (!formatter) {
    formatter = new Intl.NumberFormat(locale, options);
    formatters.set(key, formatter);
  }
  return formatter;
}

/** 0.9655 → "96.6%" (zh-CN and en alike); null → null. */
export function formatPraiseRate(rate: number | null, locale: string): string | null {
  if (rate === null || !Number.isFinite(rate)) return null;
  return numberFormat(locale, "percent", {
    style: "percent",
    minimumFractionDigits: 0,
    maximumFractionDigits: 1,
  }).format(rate);
}

/** 4.25 → "4.3"; null → null. */
export function formatGrade(grade: number | null, locale: string): string | null {
  if (grade === null || !Number.isFinite(grade)) return null;
  return numberFormat(locale, "grade", {
    minimumFractionDigits: 1,
    maximumFractionDigits: 1,
  }).format(grade);
}

/** Amount in fen (1/100 yuan) → "12.50". */
export function formatYuan(fen: number, locale: string): string {
  return numberFormat(locale, "yuan", {
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

// Days and times are written out here, in the portal's two languages, rather
// than by Intl.DateTimeFormat: its first use on a page costs tens of
// milliseconds (a phone's CPU, four times that) to load the calendar data, for
// what is a fixed pattern in each language.
const MONTHS_EN = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
// China's time is UTC+8 all year (no daylight saving since 1991).
const CHINA_OFFSET_MS = 8 * 60 * 60 * 1000;

interface DateParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

function partsOf(date: Date): DateParts {
  return {
    year: date.getUTCFullYear(),
    month: date.getUTCMonth() + 1,
    day: date.getUTCDate(),
    hour: date.getUTCHours(),
    minute: date.getUTCMinutes(),
    second: date.getUTCSeconds(),
  };
}

function inChina(instant: string): DateParts | null {
  const time = new Date(instant).getTime();
  return Number.isNaN(time) ? null : partsOf(new Date(time + CHINA_OFFSET_MS));
}

const twoDigits = (n: number) => String(n).padStart(2, "0");
const isEnglish = (locale: string) => locale.startsWith("en");

/** "2026年12月2日" (zh-CN) or "Dec 2, 2026" (en). */
function dayText(parts: DateParts, locale: string): string {
  return isEnglish(locale)
    ? `${MONTHS_EN[parts.month - 1]} ${parts.day}, ${parts.year}`
    : `${parts.year}年${parts.month}月${parts.day}日`;
}

/** "09:05" (zh-CN) or "9:05 AM" (en). */
function timeText(parts: DateParts, locale: string): string {
  if (!isEnglish(locale)) return `${twoDigits(parts.hour)}:${twoDigits(parts.minute)}`;
  const hour = parts.hour % 12 === 0 ? 12 : parts.hour % 12;
  return `${hour}:${twoDigits(parts.minute)} ${parts.hour < 12 ? "AM" : "PM"}`;
}

/** "2026-12-02" → "2026年12月2日" (zh-CN) or "Dec 2, 2026" (en); a day, shown as it is written. */
export function formatDay(day: string | null | undefined, locale: string): string {
  if (!day) return "—";
  const match = /^(\d{4})-(\d{2})-(\d{2})/.exec(day);
  if (!match) return day;
  const [year, month, date] = [Number(match[1]), Number(match[2]), Number(match[3])];
  if (month < 1 || month > 12 || date < 1 || date > 31) return day;
  return dayText({ year, month, day: date, hour: 0, minute: 0, second: 0 }, locale);
}

/** An instant, shown in China's time (where every case is handled): "2026年12月2日 00:30", "Dec 2, 2026, 12:30 AM". */
export function formatInstant(instant: string | null | undefined, locale: string): string {
  if (!instant) return "—";
  const parts = inChina(instant);
  if (!parts) return instant;
  return `${dayText(parts, locale)}${isEnglish(locale) ? ", " : " "}${timeText(parts, locale)}`;
}

/** An instant's time of day in China's time, to the second: "14:03:07". */
export function formatClock(instant: string | null | undefined, _locale: string): string {
  if (!instant) return "—";
  const parts = inChina(instant);
  if (!parts) return instant;
  return `${twoDigits(parts.hour)}:${twoDigits(parts.minute)}:${twoDigits(parts.second)}`;
}
