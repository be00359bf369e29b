// The province's live case figures: GET /api/v1/stats/live, a text/event-stream
// of `case_stats` events, each a whole snapshot {day, today, all_time}.
//
// The route is public (the OpenAPI document names no security for it and no
// 401): it is meant for wall dashboards, so the browser's own EventSource
// serves, without a token. EventSource reconnects by itself after a dropped
// connection and sends Last-Event-ID, so the gateway does not repeat the
// snapshot we have. When it gives up (the gateway answered an error, e.g. 503,
// instead of a stream) we open a new one after a growing pause.

/** LiveCaseTotals of the ratings service's contract. */
export interface LiveCaseTotals {
  submitted: number;
  accepted: number;
  completed: number;
  completed_on_time: number;
  overdue: number;
  denied: number;
  rejected: number;
  ems: number;
}

/** CaseStatsChanged: one snapshot; `day` is today in China Standard Time. */
export interface CaseStatsSnapshot {
  day: string;
  today: LiveCaseTotals;
  all_time: LiveCaseTotals;
}

export const LIVE_MEASURES: (keyof LiveCaseTotals)[] = [
  "submitted",
  "accepted",
  "completed",
  "completed_on_time",
  "overdue",
  "denied",
  "rejected",
  "ems",
];

export const LIVE_URL = "/api/v1/stats/live";
export const LIVE_EVENT = "case_stats";

export type LiveState = "connecting" | "open" | "reconnecting" | "waiting";

/** The part of EventSource used here (tests provide their own). */
export interface EventSourceLike {
  readonly readyState: number;
  addEventListener(type: string, listener: (event: MessageEvent) => void): void;
  close(): void;
}

export interface LiveOptions {
  url?: string;
  createSource?: (url: string) => EventSourceLike;
  setTimer?: (callback: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
  /** First pause before opening a new stream after the old one gave up; doubles up to maxRetryMs. */
  retryMs?: number;
  maxRetryMs?: number;
}

const CLOSED = 2;

function isTotals(value: unknown): value is LiveCaseTotals {
  if (typeof value !== "object" || value === null) return false;
  return LIVE_MEASURES.every((key) => typeof (value as Record<string, unknown>)[key] === "number");
}

/** A snapshot from an event's data, or null when it is not one. */
export function parseSnapshot(data: string): CaseStatsSnapshot | null {
  try {
    const value = JSON.parse(data) as Record<string, unknown>;
    if (typeof value.day !== "string" || !isTotals(value.today) || !isTotals(value.all_time)) return null;
    return { day: value.day, today: value.today, all_time: value.all_time };
  } catch {
    return null;
  }
}

/**
 * Follows the live figures: `onSnapshot` with each snapshot, `onState` with
 * each change of the connection. Answers the function that stops it.
 */
export function followLiveStats(
  onSnapshot: (snapshot: CaseStatsSnapshot) => void,
  onState: (state: LiveState) => void,
  options: LiveOptions = {},
): () => void {
  const url = options.url ?? LIVE_URL;
  const createSource = options.createSource ?? ((address: string) => new EventSource(address));
  const setTimer = options.setTimer ?? ((callback, ms) => setTimeout(callback, ms));
  const clearTimer = options.clearTimer ?? ((handle) => clearTimeout(handle as ReturnType<typeof setTimeout>));
  const firstRetry = options.retryMs ?? 5000;
  const maxRetry = options.maxRetryMs ?? 60000;

  let source: EventSourceLike | null = null;
  let timer: unknown = null;
  let pause = firstRetry;
  let stopped = false;

  function open(): void {
    if (stopped) return;
    onState("connecting");
    const mine = createSource(url);
    source = mine;
    mine.addEventListener("open", () => {
      if (source !== mine) return;
      pause = firstRetry;
      onState("open");
    });
    mine.addEventListener(LIVE_EVENT, (event) => {
      if (source !== mine) return;
      const snapshot = parseSnapshot(String(event.data));
      if (snapshot) onSnapshot(snapshot);
    });
    mine.addEventListener("error", () => {
      if (source !== mine || stopped) return;
      if (mine.readyState !== CLOSED) {
        onState("reconnecting");
        return;
      }
      // Given up: try a new stream later, waiting longer each time.
      mine.close();
      source = null;
      onState("waiting");
      timer = setTimer(() => {
        timer = null;
        open();
      }, pause);
      pause = Math.min(pause * 2, maxRetry);
    });
  }

  open();
  return () => {
    stopped = true;
    if (timer !== null) clearTimer(timer);
    source?.close();
    source = null;
  };
}
