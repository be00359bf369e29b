// Regions and departments change seldom: loaded once per page life and shared
// by every view. A failed load is forgotten, so the next caller tries again.

import type { ApiClient, Department, Region } from "@/api";
import { listDepartments, listRegions } from "@/api/catalog";

import { buildRegionTree, type RegionTree } from "./regions";

interface Cache {
  regions?: Promise<RegionTree>;
  departments: Map<string, Promise<Department[]>>;
}

const caches = new WeakMap<ApiClient, Cache>();

function cacheOf(api: ApiClient): Cache {
  let cache = caches.get(api);
  if (!cache) {
    cache = { departments: new Map() };
    caches.set(api, cache);
  }
  return cache;
}

export function loadRegionTree(api: ApiClient): Promise<RegionTree> {
  const cache = cacheOf(api);
  if (!cache.regions) {
    cache.regions = listRegions(api).then(
      (list: { items: Region[] }) => buildRegionTree(list.items),
      (error: unknown) => {
        cache.regions = undefined;
        throw error;
      },
    );
  }
  return cache.regions;
}

/** Departments seated in `region` (exactly that region, not those under it). */
export function loadDepartments(api: ApiClient, region: string): Promise<Department[]> {
  const cache = cacheOf(api);
  let pending = cache.departments.get(region);
  if (!pending) {
    pending = listDepartments(api, region).then(
      (list) => list.items,
      (error: unknown) => {
        cache.departments.delete(region);
        throw error;
      },
    );
    cache.departments.set(region, pending);
  }
  return pending;
}
