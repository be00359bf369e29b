// One record (or list) read from the API for a view: the newest read aborts
// the one before it and any still running when the view goes, an abort is no
// failure, and `loading` belongs to the newest read only.

import { onBeforeUnmount, ref, watch, type Ref, type WatchSource } from "vue";

import { isAbort } from "@/api";

export interface ResourceOptions<T> {
  /** Called with what was read (after `data` holds it), with the read's signal for reads that go with it. */
  onLoad?: (value: T, signal: AbortSignal) => void;
  /** Called before each read (to clear what belongs to the previous one). */
  onStart?: () => void;
  /** Empties `data` at the start of each read (else it stays until the next answer). */
  clear?: boolean;
  /** Called once a read that a change of `deps` started has ended (not after the first read). */
  afterChange?: () => unknown;
}

export interface Resource<T> {
  data: Ref<T | null>;
  error: Ref<unknown>;
  loading: Ref<boolean>;
  /** Reads again (for "try again", or after a change the watch does not see). */
  load: () => Promise<void>;
}

/**
 * Reads with `fetcher` at once and again whenever `deps` changes; with `deps`
 * null it reads once, on setup.
 */
export function useResource<T>(
  fetcher: (signal: AbortSignal) => Promise<T>,
  deps: WatchSource | null,
  options: ResourceOptions<T> = {},
): Resource<T> {
  const data = ref(null) as Ref<T | null>;
  const error = ref<unknown>(null);
  const loading = ref(false);
  let inFlight: AbortController | null = null;

  async function load(): Promise<void> {
    inFlight?.abort();
    const mine = new AbortController();
    inFlight = mine;
    loading.value = true;
    error.value = null;
    if (options.clear) data.value = null;
    options.onStart?.();
    try {
      const value = await fetcher(mine.signal);
      data.value = value;
      options.onLoad?.(value, mine.signal);
    } catch (failure) {
      if (!isAbort(failure)) error.value = failure;
    } finally {
      if (inFlight === mine) loading.value = false;
    }
  }

  if (deps) {
    let first = true;
    watch(
      deps,
      async () => {
        await load();
        if (!first) await options.afterChange?.();
        first = false;
      },
      { immediate: true },
    );
  } else void load();
  onBeforeUnmount(() => inFlight?.abort());

  return { data, error, loading, load };
}
