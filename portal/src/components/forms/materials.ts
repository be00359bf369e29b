// The materials of an application or a supplement as the form holds them, and
// as the API takes them (MaterialRef[]).

import type { HandlingMode, MaterialRef } from "@/api";

export interface MaterialRow {
  name: string;
  /** A required material is always handed in. */
  required: boolean;
  included: boolean;
  /** An electronic licence reused for it; "" for none. */
  licenceNo: string;
  note: string;
  /** Paper: as many copies as the guide asks, originals where it asks. */
  copies: number | null;
  original: boolean | null;
}

export function materialRow(
  name: string,
  required: boolean,
  paper: { copies: number; original: boolean } | null = null,
): MaterialRow {
  return {
    name,
    required,
    included: required,
    licenceNo: "",
    note: "",
    copies: paper?.copies ?? null,
    original: paper?.original ?? null,
  };
}

/**
 * The rows handed in, as MaterialRef; `rowOf[i]` is the row of the i-th
 * entry, so the gateway's "materials.<i>.<field>" finds its input again.
 */
export function toMaterialRefs(rows: MaterialRow[], mode: HandlingMode): { refs: MaterialRef[]; rowOf: number[] } {
  const refs: MaterialRef[] = [];
  const rowOf: number[] = [];
  rows.forEach((row, index) => {
    if (!row.included && !row.required) return;
    const ref: MaterialRef = { name: row.name };
    if (row.licenceNo) ref.licence_no = row.licenceNo;
    else if (mode !== "online") {
      // Paper goes by EMS or to the window; online, the licence or nothing.
      if (row.copies) ref.copies = row.copies;
      if (row.original !== null) ref.original = row.original;
    }
    const note = row.note.trim();
    if (note) ref.note = note;
    refs.push(ref);
    rowOf.push(index);
  });
  return { refs, rowOf };
}

/** The gateway's reasons for materials.<i>.<field>, keyed "<row>.<field>" (and "" for the list). */
export function materialErrors(fields: Readonly<Record<string, string>>, rowOf: number[]): Record<string, string> {
  const errors: Record<string, string> = {};
  for (const [field, reason] of Object.entries(fields)) {
    if (field === "materials") errors[""] = reason;
    const match = /^materials\.(\d+)(?:\.(\w+))?$/.exec(field);
    if (!match) continue;
    const row = rowOf[Number(match[1])];
    if (row !== undefined) errors[`${row}.${match[2] ?? "name"}`] = reason;
  }
  return errors;
}
