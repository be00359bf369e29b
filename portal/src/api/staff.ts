// The staff's side of the API: the department's worklist, acting on a case
// (decisions, extensions, special procedures, handing over), the principal's
// identity, rectifications of bad reviews (整改) and escalations (督办). Every
// call rejects with ApiError as the client does.

import type { ApiClient } from "./client";
import type { Page, PageRequest } from "./paging";
import type {
  ActBody,
  Application,
  CaseState,
  EscalationEntry,
  EscalationLevel,
  ExtensionBody,
  ExtensionDecisionBody,
  HandOverBody,
  PrincipalIdentity,
  Rectification,
  RectificationState,
  ResolveBody,
  ReturnVisitBody,
  Signal,
  SuspensionBody,
  SuspensionStarted,
  VerifyBody,
  WorkItem,
} from "./types";

type Signalled = { signal?: AbortSignal };
const id = encodeURIComponent;

export type WorklistSort = "newest" | "due";

export interface WorklistFilters extends PageRequest {
  state?: CaseState;
  signal?: Signal;
  sort?: WorklistSort;
}

/** The cases of my department, each with the department's open step (its `task`). */
export function listWorklist(api: ApiClient, filters: WorklistFilters = {}, options: Signalled = {}): Promise<Page<WorkItem>> {
  return api.get<Page<WorkItem>>("/worklist", { ...options, query: { ...filters } });
}

/** accept, reject, request_supplement, approve or deny, at the step named. */
export function actOnCase(api: ApiClient, applicationId: string, body: ActBody): Promise<Application> {
  return api.post<Application>(`/applications/${id(applicationId)}/actions`, body);
}

export function requestExtension(api: ApiClient, applicationId: string, body: ExtensionBody): Promise<Application> {
  return api.post<Application>(`/applications/${id(applicationId)}/extension`, body);
}

export function decideExtension(api: ApiClient, applicationId: string, body: ExtensionDecisionBody): Promise<Application> {
  return api.post<Application>(`/applications/${id(applicationId)}/extension/decision`, body);
}

export function startSuspension(api: ApiClient, applicationId: string, body: SuspensionBody): Promise<SuspensionStarted> {
  return api.post<SuspensionStarted>(`/applications/${id(applicationId)}/suspensions`, body);
}

export function endSuspension(api: ApiClient, applicationId: string, suspensionId: string, result: string): Promise<Application> {
  return api.post<Application>(`/applications/${id(applicationId)}/suspensions/${id(suspensionId)}/end`, { result });
}

export function handOver(api: ApiClient, applicationId: string, body: HandOverBody): Promise<Application> {
  return api.post<Application>(`/applications/${id(applicationId)}/handover`, body);
}

/** The person a case was applied for, ID number in full; each read is recorded. */
export function getPrincipal(api: ApiClient, applicationId: string, options: Signalled = {}): Promise<PrincipalIdentity> {
  return api.get<PrincipalIdentity>(`/applications/${id(applicationId)}/principal`, options);
}

export interface RectificationFilters extends PageRequest {
  state?: RectificationState;
  level?: EscalationLevel;
}

export function listRectifications(
  api: ApiClient,
  filters: RectificationFilters = {},
  options: Signalled = {},
): Promise<Page<Rectification>> {
  return api.get<Page<Rectification>>("/rectifications", { ...options, query: { ...filters } });
}

export function getRectification(api: ApiClient, rectificationId: string, options: Signalled = {}): Promise<Rectification> {
  return api.get<Rectification>(`/rectifications/${id(rectificationId)}`, options);
}

export function verifyRectification(api: ApiClient, rectificationId: string, body: VerifyBody): Promise<Rectification> {
  return api.post<Rectification>(`/rectifications/${id(rectificationId)}/verify`, body);
}

export function resolveRectification(api: ApiClient, rectificationId: string, body: ResolveBody): Promise<Rectification> {
  return api.post<Rectification>(`/rectifications/${id(rectificationId)}/resolve`, body);
}

export function recordReturnVisit(api: ApiClient, rectificationId: string, body: ReturnVisitBody): Promise<Rectification> {
  return api.post<Rectification>(`/rectifications/${id(rectificationId)}/return-visit`, body);
}

export function listEscalations(
  api: ApiClient,
  filters: PageRequest & { level?: EscalationLevel } = {},
  options: Signalled = {},
): Promise<Page<EscalationEntry>> {
  return api.get<Page<EscalationEntry>>("/escalations", { ...options, query: { ...filters } });
}

export const CASE_STATES: CaseState[] = [
  "submitted",
  "accepted",
  "supplement_requested",
  "approved",
  "denied",
  "completed",
  "withdrawn",
  "rejected",
  "not_supplemented",
];
export const SIGNALS: Signal[] = ["green", "yellow", "red"];
export const RECTIFICATION_STATES: RectificationState[] = [
  "awaiting_verification",
  "verified",
  "resolved",
  "closed",
  "closed_for_appeal",
];
