import { describe, expect, it } from "vitest";

import { formatClock, formatDay, formatGrade, formatInstant, formatPraiseRate, formatYuan, safeHref } from "./format";

describe("format", () => {
  it("shows praise rates as percentages", () => {
    expect(formatPraiseRate(0.6667, "zh-CN")).toBe("66.7%");
    expect(formatPraiseRate(1, "en")).toBe("100%");
    expect(formatPraiseRate(null, "zh-CN")).toBeNull();
  });

  it("shows grades and yuan", () => {
    expect(formatGrade(4.25, "zh-CN")).toBe("4.3");
    expect(formatYuan(100000, "en")).toBe("1,000.00");
    expect(formatGrade(null, "en")).toBeNull();
    expect(formatYuan(1250, "zh-CN")).toBe("12.50");
  });

  it("lets only web links from the catalogue into href", () => {
    expect(safeHref("https://zwfw.example.gov.cn/a.pdf")).toBe("https://zwfw.example.gov.cn/a.pdf");
    expect(safeHref("/forms/a.pdf")).toBe("/forms/a.pdf");
    expect(safeHref("javascript:alert(1)")).toBeNull();
    expect(safeHref(" JavaScript:alert(1)")).toBeNull();
    expect(safeHref("data:text/html,x")).toBeNull();
    expect(safeHref("//evil.example/x")).toBeNull();
    expect(safeHref(null)).toBeNull();
  });
});

describe("days and instants", () => {
  it("shows a day as written, whatever the device's zone", () => {
    expect(formatDay("2026-12-31", "zh-CN")).toBe("2026年12月31日");
    expect(formatDay("2026-12-31", "en")).toBe("Dec 31, 2026");
    expect(formatDay(null, "en")).toBe("—");
  });

  it("shows an instant in China's time", () => {
    expect(formatInstant("2026-12-01T16:30:00Z", "zh-CN")).toBe("2026年12月2日 00:30");
    expect(formatInstant("2026-12-01T16:30:00Z", "en")).toBe("Dec 2, 2026, 12:30 AM");
    expect(formatInstant("2026-12-02T04:05:00Z", "en")).toBe("Dec 2, 2026, 12:05 PM");
    expect(formatInstant("2026-12-31T21:59:00+08:00", "en")).toBe("Dec 31, 2026, 9:59 PM");
    expect(formatInstant("not a time", "zh-CN")).toBe("not a time");
    expect(formatInstant(undefined, "zh-CN")).toBe("—");
    expect(formatClock("2026-12-01T06:03:07Z", "zh-CN")).toBe("14:03:07");
  });

  it("writes days and times as Intl does in both languages", () => {
    const instants = ["2026-01-05T00:00:00Z", "2026-06-30T15:59:59Z", "2027-02-28T23:45:00Z", "2026-12-01T04:00:00Z"];
    for (const instant of instants) {
      const date = new Date(instant);
      const chinese = new Intl.DateTimeFormat("zh-CN", { dateStyle: "medium", timeStyle: "short", timeZone: "Asia/Shanghai" });
      expect(formatInstant(instant, "zh-CN")).toBe(chinese.format(date));
      const english = new Intl.DateTimeFormat("en", { dateStyle: "medium", timeStyle: "short", timeZone: "Asia/Shanghai" });
      // Newer ICU puts a narrow no-break space before AM and PM; a plain one is written here.
      expect(formatInstant(instant, "en")).toBe(english.format(date).replace("\u202f", " "));
      const day = instant.slice(0, 10);
      expect(formatDay(day, "en")).toBe(new Intl.DateTimeFormat("en", { dateStyle: "medium", timeZone: "UTC" }).format(new Date(`${day}T00:00:00Z`)));
    }
  });
});
