import { mount } from "@vue/test-utils";
import { describe, expect, it, vi } from "vitest";
import { defineComponent, h, nextTick, ref } from "vue";

import { ApiError } from "@/api";
import { useResource, type Resource, type ResourceOptions } from "@/resource";

/** A fetcher whose reads are answered (or refused) by the test, one by one. */
function controlled<T>() {
  const reads: { signal: AbortSignal; resolve: (value: T) => void; reject: (error: unknown) => void }[] = [];
  const fetcher = vi.fn(
    (signal: AbortSignal) =>
      new Promise<T>((resolve, reject) => {
        reads.push({ signal, resolve, reject });
        signal.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError")));
      }),
  );
  return { fetcher, reads };
}

function host<T>(make: () => Resource<T>) {
  let resource!: Resource<T>;
  const wrapper = mount(
    defineComponent({
      setup() {
        resource = make();
        return () => h("div");
      },
    }),
  );
  return { wrapper, resource };
}

const settle = () => new Promise((resolve) => setTimeout(resolve));

describe("useResource", () => {
  it("reads once on setup without deps, loading until the answer", async () => {
    const { fetcher, reads } = controlled<string>();
    const { resource } = host(() => useResource(fetcher, null));
    expect(fetcher).toHaveBeenCalledTimes(1);
    expect(resource.loading.value).toBe(true);
    expect(resource.data.value).toBeNull();
    reads[0]!.resolve("one");
    await settle();
    expect(resource.data.value).toBe("one");
    expect(resource.loading.value).toBe(false);
    expect(resource.error.value).toBeNull();
  });

  it("keeps a failure, keeps the last answer, and clears the failure on the next read", async () => {
    const { fetcher, reads } = controlled<string>();
    const { resource } = host(() => useResource(fetcher, null));
    reads[0]!.resolve("one");
    await settle();
    void resource.load();
    const failure = new ApiError({ status: 503, code: "unavailable", message: "later" });
    reads[1]!.reject(failure);
    await settle();
    expect(resource.error.value).toBe(failure);
    expect(resource.data.value).toBe("one");
    void resource.load();
    expect(resource.error.value).toBeNull();
  });

  it("reads again when deps change, aborting the read before it; the abort is no failure", async () => {
    const { fetcher, reads } = controlled<string>();
    const id = ref("a");
    const afterChange = vi.fn();
    const { resource } = host(() => useResource(fetcher, id, { afterChange }));
    id.value = "b";
    await nextTick();
    expect(fetcher).toHaveBeenCalledTimes(2);
    expect(reads[0]!.signal.aborted).toBe(true);
    await settle();
    expect(resource.error.value).toBeNull();
    expect(resource.loading.value).toBe(true);
    expect(afterChange).not.toHaveBeenCalled();
    reads[1]!.resolve("b");
    await settle();
    expect(resource.data.value).toBe("b");
    expect(resource.loading.value).toBe(false);
    expect(afterChange).toHaveBeenCalledTimes(1);
  });

  it("calls onStart before each read and onLoad with the answer and the read's signal; clear empties data", async () => {
    const { fetcher, reads } = controlled<string>();
    const seen: unknown[] = [];
    const options: ResourceOptions<string> = {
      clear: true,
      onStart: () => seen.push("start"),
      onLoad: (value, signal) => seen.push(value, signal),
    };
    const { resource } = host(() => useResource(fetcher, null, options));
    reads[0]!.resolve("one");
    await settle();
    expect(seen).toEqual(["start", "one", reads[0]!.signal]);
    void resource.load();
    expect(resource.data.value).toBeNull();
    expect(seen).toHaveLength(4);
  });

  it("aborts what is still being read when the component goes", () => {
    const { fetcher, reads } = controlled<string>();
    const { wrapper } = host(() => useResource(fetcher, null));
    wrapper.unmount();
    expect(reads[0]!.signal.aborted).toBe(true);
  });
});
