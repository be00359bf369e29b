import { describe, expect, it } from "vitest";

import { viewerMay, viewerOf, type IdClaims } from "./index";

function jwt(claims: Record<string, unknown>): string {
  const part = (value: unknown) => btoa(JSON.stringify(value)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  return `${part({ alg: "EdDSA", typ: "JWT" })}.${part(claims)}.c2ln`;
}

const idClaims: IdClaims = { iss: "i", sub: "u", aud: "a", exp: 2, iat: 1 };

describe("who is signed in", () => {
  it("reads kind, roles and department from the access token", () => {
    expect(viewerOf(jwt({ kind: "staff", roles: ["approver", 7], dept: "js-amr" }), idClaims)).toEqual({
      kind: "staff",
      roles: ["approver"],
      department: "js-amr",
    });
    expect(viewerOf(jwt({ kind: "operator", roles: [], dept: null }), idClaims)).toEqual({ kind: "operator", roles: [], department: null });
  });

  it("falls back on the ID token's staff claims, and on a citizen", () => {
    const staff = { ...idClaims, department_code: "js-amr", roles: ["dept_admin"] };
    expect(viewerOf("opaque", staff)).toEqual({ kind: "staff", roles: ["dept_admin"], department: "js-amr" });
    expect(viewerOf(jwt({ kind: "nobody" }), idClaims)).toEqual({ kind: "citizen", roles: [], department: null });
    expect(viewerOf(null, null)).toBeNull();
  });

  it("lets a page's kinds and roles decide, roles narrowing staff only", () => {
    const clerk = { kind: "staff" as const, roles: ["window_clerk"], department: "d" };
    const admin = { kind: "staff" as const, roles: ["dept_admin"], department: "d" };
    const operator = { kind: "operator" as const, roles: [], department: null };
    expect(viewerMay(clerk, undefined, undefined)).toBe(true);
    expect(viewerMay(clerk, ["staff", "operator"], ["dept_admin"])).toBe(false);
    expect(viewerMay(admin, ["staff", "operator"], ["dept_admin"])).toBe(true);
    expect(viewerMay(operator, ["staff", "operator"], ["dept_admin"])).toBe(true);
    expect(viewerMay(operator, ["staff"])).toBe(false);
    expect(viewerMay(null, ["staff"])).toBe(false);
  });
});
