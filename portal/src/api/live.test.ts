import { describe, expect, it, vi } from "vitest";

import { followLiveStats, parseSnapshot, type EventSourceLike } from "./live";

const totals = { submitted: 3, accepted: 2, completed: 1, completed_on_time: 1, overdue: 0, denied: 0, rejected: 0, ems: 1 };
const snapshot = { day: "2026-12-02", today: totals, all_time: { ...totals, submitted: 30 } };

class FakeSource implements EventSourceLike {
  readyState = 0;
  closed = false;
  readonly listeners = new Map<string, ((event: MessageEvent) => void)[]>();
  constructor(readonly url: string) {}
  addEventListener(type: string, listener: (event: MessageEvent) => void): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
  }
  emit(type: string, data?: string): void {
    for (const listener of this.listeners.get(type) ?? []) listener(new MessageEvent(type, { data }));
  }
  close(): void {
    this.closed = true;
    this.readyState = 2;
  }
}

function harness() {
  const sources: FakeSource[] = [];
  const timers: { callback: () => void; ms: number }[] = [];
  const onSnapshot = vi.fn();
  const onState = vi.fn();
  const stop = followLiveStats(onSnapshot, onState, {
    createSource: (url) => {
      const source = new FakeSource(url);
      sources.push(source);
      return source;
    },
    setTimer: (callback, ms) => timers.push({ callback, ms }),
    clearTimer: vi.fn(),
    retryMs: 1000,
    maxRetryMs: 3000,
  });
  return { sources, timers, onSnapshot, onState, stop };
}

describe("live figures", () => {
  it("reads a snapshot and refuses anything else", () => {
    expect(parseSnapshot(JSON.stringify(snapshot))).toEqual(snapshot);
    expect(parseSnapshot("not json")).toBeNull();
    expect(parseSnapshot(JSON.stringify({ day: "2026-12-02", today: { submitted: 1 }, all_time: totals }))).toBeNull();
  });

  it("opens the public stream without a token and hands on each case_stats event", () => {
    const { sources, onSnapshot, onState } = harness();
    expect(sources[0]!.url).toBe("/api/v1/stats/live");
    expect(onState).toHaveBeenLastCalledWith("connecting");
    sources[0]!.emit("open");
    expect(onState).toHaveBeenLastCalledWith("open");
    sources[0]!.emit("case_stats", JSON.stringify(snapshot));
    sources[0]!.emit("case_stats", "{broken");
    expect(onSnapshot).toHaveBeenCalledTimes(1);
    expect(onSnapshot).toHaveBeenCalledWith(snapshot);
  });

  it("lets EventSource reconnect by itself, and opens a new stream later when it gave up", () => {
    const { sources, timers, onState, stop } = harness();
    sources[0]!.emit("error");
    expect(onState).toHaveBeenLastCalledWith("reconnecting");
    expect(timers).toHaveLength(0);

    sources[0]!.readyState = 2; // closed: the gateway answered 503
    sources[0]!.emit("error");
    expect(onState).toHaveBeenLastCalledWith("waiting");
    expect(timers.map((t) => t.ms)).toEqual([1000]);
    timers[0]!.callback();
    expect(sources).toHaveLength(2);

    sources[1]!.readyState = 2;
    sources[1]!.emit("error");
    timers[1]!.callback();
    sources[2]!.readyState = 2;
    sources[2]!.emit("error");
    expect(timers.map((t) => t.ms)).toEqual([1000, 2000, 3000]);

    stop();
    timers[2]!.callback();
    expect(sources).toHaveLength(3);
  });

  it("closes the stream when stopped", () => {
    const { sources, stop } = harness();
    stop();
    expect(sources[0]!.closed).toBe(true);
  });
});
