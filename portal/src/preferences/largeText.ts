// Large-text mode (适老化): scales the root font size, so every size given in
// rem grows with it; remembered on this device.

import { readonly, ref } from "vue";

export const LARGE_TEXT_STORAGE_KEY = "tongban.largeText";
/** Class on <html>; base.css sets the larger root font size under it. */
export const LARGE_TEXT_CLASS = "large-text";

const enabled = ref(false);

function storage(): Storage | null {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    return null;
  }
}

function apply(on: boolean): void {
  enabled.value = on;
  document.documentElement.classList.toggle(LARGE_TEXT_CLASS, on);
}

/** Applies the saved choice; called once before the app mounts. */
export function restoreLargeText(): void {
  apply(storage()?.getItem(LARGE_TEXT_STORAGE_KEY) === "on");
}

export function setLargeText(on: boolean): void {
  apply(on);
  try {
    storage()?.setItem(LARGE_TEXT_STORAGE_KEY, on ? "on" : "off");
  } catch {
    // Not remembered (quota or privacy mode); still applied to this page.
  }
}

export function useLargeText() {
  return {
    enabled: readonly(enabled),
    toggle: () => setLargeText(!enabled.value),
  };
}
