// 好差评 beyond a citizen's own case: a window visit rated once with a token
// (一次一评: the clerk records it, the visitor rates it at the window's terminal
// or through the SMS link, signed in or not), and the department's side of
// reviews: the list, the public reply, the appeal (申诉) and the operator's
// decision of it (复核). Every call rejects with ApiError as the client does.
//
// The interfaces follow the gateway's OpenAPI schemas of the same names.

import type { ApiClient } from "./client";
import type { Page, PageRequest } from "./paging";
import type { ReviewId } from "./types";

type Signalled = { signal?: AbortSignal };
const id = encodeURIComponent;

// ---------------------------------------------------------------- window visits

/** RecordVisitBody: the item served at the window; the phone (optional) gets the rating link by SMS. */
export interface RecordVisitBody {
  item_id: string;
  phone?: string | null;
}

/** VisitRecorded: the visit's one-time rating token, shown once, for the window's terminal. */
export interface VisitRecorded {
  visit_id: string;
  token: string;
  expires_at: string;
}

/** OnsiteIndicators: the sub-grades of a window visit, 1..5 each. */
export interface OnsiteIndicators {
  efficiency?: number;
  competence?: number;
  attitude?: number;
}

/** window: rated at the window's terminal; sms: through the link sent by SMS. */
export type VisitChannel = "window" | "sms";

/** ReviewVisitBody: 一次一评 with the visit's token. */
export interface ReviewVisitBody {
  token: string;
  grade: number;
  comment?: string;
  channel: VisitChannel;
  indicators?: OnsiteIndicators | null;
}

export const ONSITE_INDICATORS = ["efficiency", "competence", "attitude"] as const;

/** A window clerk records the visit of a citizen served for `item_id` (their department's). */
export function recordVisit(api: ApiClient, body: RecordVisitBody): Promise<VisitRecorded> {
  return api.post<VisitRecorded>("/visits", body);
}

/** Rates a window visit once; needs no sign-in (the token is the proof). */
export function reviewVisit(api: ApiClient, body: ReviewVisitBody): Promise<ReviewId> {
  return api.post<ReviewId>("/visits/review", body);
}

/**
 * The page a visitor rates a visit on, as the SMS names it:
 * `<portal>/rate?token=…` (the ratings service writes that link). The window's
 * terminal adds `channel=window`, so that a review made there counts as one
 * made at the window.
 */
export function ratingPath(token: string, channel: VisitChannel = "sms"): string {
  const query = new URLSearchParams({ token });
  if (channel === "window") query.set("channel", "window");
  return `/rate?${query.toString()}`;
}

// ---------------------------------------------------------------- reviews and appeals

export type ReviewChannel = "web" | "app" | "window" | "sms";
export type AppealState = "pending" | "upheld" | "rejected";

/** ReviewView: a review as the department and the operator see it. */
export interface ReviewView {
  review_id: string;
  application_id: string | null;
  visit_id: string | null;
  store_id: string;
  /** the item's */
  department_code: string;
  /** the department that answers for it */
  handled_by: string;
  region_code: string;
  item_id: string;
  item_name: string;
  /** masked (张*); 匿名 for a window visit */
  reviewer: string;
  real_name: boolean;
  grade: number;
  comment: string;
  channel: ReviewChannel;
  /** sub-grades given, by name */
  indicators: Record<string, number>;
  submitted_at: string;
  /** an upheld appeal took it out of every rate */
  excluded: boolean;
  reply: string | null;
  replied_at: string | null;
  replied_by: string | null;
  /** null: never appealed */
  appeal_state: AppealState | null;
}

/** ReplyBody: the department's public reply, once. */
export interface ReplyBody {
  reply: string;
}

/** AppealBody: why the review is malicious or mistaken. */
export interface AppealBody {
  reason: string;
}

/** AppealId. */
export interface AppealId {
  appeal_id: string;
}

/** AppealDecisionBody: the operator's 复核. */
export interface AppealDecisionBody {
  uphold: boolean;
  comment: string;
}

/** Appeal: one appeal with the review it is about. */
export interface Appeal {
  appeal_id: string;
  review_id: string;
  department_code: string;
  reason: string;
  state: AppealState;
  filed_by: string;
  filed_at: string;
  decided_by: string | null;
  decided_at: string | null;
  decision_comment: string | null;
  review: ReviewView;
}

export interface ReviewFilters extends PageRequest {
  /** An operator's choice; staff see their own department's only. */
  department?: string;
  /** true: with an appeal; false: without. */
  appealed?: boolean;
}

/** Reviews newest first: staff their department's, an operator all (or a department's). */
export function listReviews(api: ApiClient, filters: ReviewFilters = {}, options: Signalled = {}): Promise<Page<ReviewView>> {
  return api.get<Page<ReviewView>>("/reviews", { ...options, query: { ...filters } });
}

/** The department's public reply under the review (once); answers the review as it is now. */
export function replyToReview(api: ApiClient, reviewId: string, body: ReplyBody): Promise<ReviewView> {
  return api.post<ReviewView>(`/reviews/${id(reviewId)}/reply`, body);
}

/** The department admin appeals the review to the operator (once). */
export function fileAppeal(api: ApiClient, reviewId: string, body: AppealBody): Promise<AppealId> {
  return api.post<AppealId>(`/reviews/${id(reviewId)}/appeal`, body);
}

/** Appeals, pending first: an operator's all, a department admin's their department's. */
export function listAppeals(
  api: ApiClient,
  filters: PageRequest & { state?: AppealState } = {},
  options: Signalled = {},
): Promise<Page<Appeal>> {
  return api.get<Page<Appeal>>("/appeals", { ...options, query: { ...filters } });
}

/** The operator decides a pending appeal; upheld, the review leaves every rate. */
export function decideAppeal(api: ApiClient, appealId: string, body: AppealDecisionBody): Promise<Appeal> {
  return api.post<Appeal>(`/appeals/${id(appealId)}/decision`, body);
}

export const APPEAL_STATES: AppealState[] = ["pending", "upheld", "rejected"];
