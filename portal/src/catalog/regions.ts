// The region tree (province → cities → counties) from the flat list of
// GET /api/v1/regions, linked by parent_code.

import type { Region } from "@/api";

export interface RegionTree {
  byCode: ReadonlyMap<string, Region>;
  /** The root (the province); null when the list is empty. */
  root: Region | null;
  /** Children of a region, in code order. */
  childrenOf(code: string): Region[];
}

export function buildRegionTree(regions: readonly Region[]): RegionTree {
  const byCode = new Map<string, Region>();
  const children = new Map<string, Region[]>();
  for (const region of regions) byCode.set(region.code, region);
  let root: Region | null = null;
  // Codes are digits: compared as plain strings (localeCompare is many times slower).
  const byCodeOrder = [...regions].sort((a, b) => (a.code < b.code ? -1 : a.code > b.code ? 1 : 0));
  for (const region of byCodeOrder) {
    const parent = region.parent_code;
    if (parent === null || !byCode.has(parent)) {
      root ??= region;
      continue;
    }
    const siblings = children.get(parent) ?? [];
    siblings.push(region);
    children.set(parent, siblings);
  }
  return {
    byCode,
    root,
    childrenOf: (code) => children.get(code) ?? [],
  };
}

/** The regions from the root down to `code`; [] for an unknown code. */
export function regionPath(tree: RegionTree, code: string): Region[] {
  const path: Region[] = [];
  const seen = new Set<string>();
  let region = tree.byCode.get(code);
  while (region && !seen.has(region.code)) {
    seen.add(region.code);
    path.unshift(region);
    region = region.parent_code === null ? undefined : tree.byCode.get(region.parent_code);
  }
  return path;
}

/** "江苏省 南京市 玄武区"-style name of a region, or the code itself if unknown. */
export function regionLabel(tree: RegionTree | null, code: string): string {
  if (!tree) return code;
  const path = regionPath(tree, code);
  return path.length ? path.map((region) => region.name).join(" ") : code;
}

/**
 * Splits a region code into the city and county choices of a two-step picker:
 * the province (or nothing) gives ["", ""], a city [city, ""], a county
 * [city, county]. An unknown code gives ["", ""].
 */
export function cityAndCounty(tree: RegionTree, code: string | undefined): [string, string] {
  if (!code) return ["", ""];
  const region = tree.byCode.get(code);
  if (!region) return ["", ""];
  if (region.level === "city") return [region.code, ""];
  if (region.level === "county" && region.parent_code) return [region.parent_code, region.code];
  return ["", ""];
}
