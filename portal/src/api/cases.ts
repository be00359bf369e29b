// A signed-in citizen's side of the API: applying, my cases and their EMS
// shipments, the applicant's actions on a case, reviews, licences, and whom I
// may act for. Every call rejects with ApiError as the client does.

import type { ApiClient } from "./client";
import type { Page, PageRequest } from "./paging";
import type {
  Application,
  Licence,
  LicenceCheck,
  LicenceView,
  Mandate,
  MaterialRef,
  ProcessVersion,
  RedeliveryBody,
  ReviewId,
  Shipment,
  ShipmentSummary,
  SubmitApplicationBody,
  SubmitReviewBody,
  Submitted,
  WorkItem,
} from "./types";

type Signal = { signal?: AbortSignal };
const id = encodeURIComponent;

/**
 * Submits an application. `idempotencyKey` is made once per filled form, so a
 * second press (or a retry after no answer) does not open a second case.
 */
export function submitApplication(api: ApiClient, body: SubmitApplicationBody, idempotencyKey: string): Promise<Submitted> {
  return api.post<Submitted>("/applications", body, { headers: { "Idempotency-Key": idempotencyKey } });
}

export function listMyApplications(api: ApiClient, paging: PageRequest = {}, options: Signal = {}): Promise<Page<WorkItem>> {
  return api.get<Page<WorkItem>>("/applications", { ...options, query: { ...paging } });
}

export function getApplication(api: ApiClient, applicationId: string, options: Signal = {}): Promise<Application> {
  return api.get<Application>(`/applications/${id(applicationId)}`, options);
}

export function listShipments(api: ApiClient, applicationId: string, options: Signal = {}): Promise<{ items: ShipmentSummary[] }> {
  return api.get<{ items: ShipmentSummary[] }>("/shipments", { ...options, query: { application_id: applicationId } });
}

/** One EMS shipment with its tracking events. */
export function getShipment(api: ApiClient, trackingNo: string, options: Signal = {}): Promise<Shipment> {
  return api.get<Shipment>(`/shipments/${id(trackingNo)}`, options);
}

export function withdrawApplication(api: ApiClient, applicationId: string): Promise<Application> {
  return api.post<Application>(`/applications/${id(applicationId)}/withdraw`, {});
}

export function supplementApplication(api: ApiClient, applicationId: string, materials: MaterialRef[]): Promise<Application> {
  return api.post<Application>(`/applications/${id(applicationId)}/supplement`, { materials });
}

export function chooseRedelivery(api: ApiClient, applicationId: string, body: RedeliveryBody): Promise<Application> {
  return api.post<Application>(`/applications/${id(applicationId)}/redelivery`, body);
}

export function reviewApplication(api: ApiClient, applicationId: string, body: SubmitReviewBody): Promise<ReviewId> {
  return api.post<ReviewId>(`/applications/${id(applicationId)}/review`, body);
}

export function listMyLicences(api: ApiClient, options: Signal = {}): Promise<{ items: Licence[] }> {
  return api.get<{ items: Licence[] }>("/licences", options);
}

export function getLicence(api: ApiClient, licenceNo: string, options: Signal = {}): Promise<LicenceView> {
  return api.get<LicenceView>(`/licences/${id(licenceNo)}`, options);
}

/** Public: anyone may check a licence number. */
export function verifyLicence(api: ApiClient, licenceNo: string, options: Signal = {}): Promise<LicenceCheck> {
  return api.get<LicenceCheck>(`/licences/${id(licenceNo)}/verify`, options);
}

/** The mandates granted to me: whom I may act for. */
export function listMandatesAsAgent(api: ApiClient, options: Signal = {}): Promise<Page<Mandate>> {
  return api.get<Page<Mandate>>("/me/mandates", { ...options, query: { role: "agent", page_size: 100 } });
}

/** The item's process as published (public, cached): which steps a case will pass. */
export function getItemProcess(api: ApiClient, itemId: string, options: Signal = {}): Promise<ProcessVersion> {
  return api.get<ProcessVersion>(`/items/${id(itemId)}/process`, options);
}

/** States in which a case has ended and may be reviewed (within 30 days). */
export const REVIEWABLE_STATES = ["completed", "denied", "rejected"] as const;
/** States in which a case has ended. */
export const ENDED_STATES = ["completed", "denied", "rejected", "withdrawn", "not_supplemented"] as const;
