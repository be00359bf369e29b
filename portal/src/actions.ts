// What a page with several actions shares: one action at a time, each
// action's failure kept beside its form, the focus moved after every outcome
// (to the page's heading after a success, announced; to the failure after a
// failure), and "try again" after a 409 reading the record afresh.

import { nextTick, ref, type Ref } from "vue";

import { isApiError } from "@/api";

export interface ActionsOptions<T> {
  /** Shows what the action answered (the case, the rectification). */
  show: (result: T) => void;
  /** Reads the record again (after a 409 the state moved on). */
  reload: () => unknown;
  /** The status region's text. */
  announcement: Ref<string>;
  /** The words announced after `action` succeeded. */
  doneText: (action: string) => string;
  /** Where the reader starts again after a success (the page's heading). */
  focusAfter: () => HTMLElement | null;
}

export function useActions<T>(options: ActionsOptions<T>) {
  const busy = ref<string | null>(null);
  const failure = ref<{ action: string; error: unknown } | null>(null);

  async function run(action: string, call: () => Promise<T>): Promise<boolean> {
    if (busy.value) return false;
    busy.value = action;
    failure.value = null;
    options.announcement.value = "";
    try {
      options.show(await call());
      options.announcement.value = options.doneText(action);
      await nextTick();
      options.focusAfter()?.focus();
      return true;
    } catch (error) {
      failure.value = { action, error };
      await nextTick();
      document.getElementById(`${action}-error`)?.focus();
      return false;
    } finally {
      busy.value = null;
    }
  }

  function errorOf(action: string): unknown {
    return failure.value?.action === action ? failure.value.error : null;
  }

  /** The gateway's reason per field of the action's 422, else {}. */
  function fieldsOf(action: string): Readonly<Record<string, string>> {
    const error = errorOf(action);
    return isApiError(error) && error.status === 422 ? error.fields : {};
  }

  /** "Try again": after a 409 read the record again, else repeat the action. */
  function retryOf(action: string, again: () => unknown): () => void {
    return () => {
      const error = errorOf(action);
      if (isApiError(error) && error.status === 409) {
        failure.value = null;
        void options.reload();
      } else void again();
    };
  }

  function clear(): void {
    failure.value = null;
  }

  return { busy, run, errorOf, fieldsOf, retryOf, clear };
}

/** Lines of a textarea as a list: trimmed, empty lines left out. */
export function lines(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== "");
}
