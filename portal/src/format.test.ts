import { describe, expect, it } from "vitest";

import { formatDay, formatGrade, formatInstant, formatPraiseRate, formatYuan, safeHref } from "./format";

describe("format", () => {
  it("shows praise rates as percentages", () => {
    expect(formatPraiseRate(0.6667, "zh-CN")).toBe("66.7%");
    expect(formatPraiseRate(1, "en")).toBe("100%");
    expect(formatPraiseRate(null, "zh-CN")).toBeNull();
  });

  it("shows grades and yuan", () => {
    expect(formatGrade(4.25, "zh-CN")).toBe("4.3");
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
    expect(formatInstant("2026-12-01T16:30:00Z", "zh-CN")).toContain("2026年12月2日");
    expect(formatInstant("2026-12-01T16:30:00Z", "zh-CN")).toContain("00:30");
  });
});
