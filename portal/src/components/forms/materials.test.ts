import { describe, expect, it } from "vitest";

import { materialErrors, materialRow, toMaterialRefs } from "./materials";

const LICENCE_NO = "JS00000000000000000001";

describe("materials of a form", () => {
  const rows = () => [
    materialRow("申请书", true, { copies: 2, original: true }),
    materialRow("委托书", false, { copies: 1, original: false }),
    materialRow("营业执照", true, { copies: 1, original: false }),
  ];

  it("hands in required materials and the optional ones chosen, paper with copies", () => {
    const list = rows();
    list[2]!.licenceNo = LICENCE_NO;
    list[0]!.note = "  已签字 ";
    expect(toMaterialRefs(list, "express")).toEqual({
      refs: [
        { name: "申请书", copies: 2, original: true, note: "已签字" },
        { name: "营业执照", licence_no: LICENCE_NO },
      ],
      rowOf: [0, 2],
    });
    list[1]!.included = true;
    expect(toMaterialRefs(list, "express").rowOf).toEqual([0, 1, 2]);
  });

  it("sends no paper facts for an online application", () => {
    expect(toMaterialRefs(rows(), "online").refs).toEqual([{ name: "申请书" }, { name: "营业执照" }]);
  });

  it("finds the row of the gateway's materials.<i>.<field> again", () => {
    expect(
      materialErrors(
        { "materials.1.licence_no": "unknown licence", "materials.0": "bad entry", materials: "too many", other: "x" },
        [0, 2],
      ),
    ).toEqual({ "2.licence_no": "unknown licence", "0.name": "bad entry", "": "too many" });
  });
});
