import { describe, expect, it } from "vitest";

import { formatGrade, formatPraiseRate, formatYuan, safeHref } from "./format";

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
