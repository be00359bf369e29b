"""The ratings service: reviews of ended cases and window visits, replies and
appeals, published indicators and case data, rectifications of bad reviews.

python -m operations.runner services.ratings.service:RatingsService
"""

from nameko.dependency_providers import Config
from nameko.extensions import DependencyProvider

from services.common import clock
from services.common.dependencies import Database
from services.common.entrypoints import handles, rpc
from services.common.messaging.topology import Retired
from services.common.metrics import Instrumentation
from services.common.ops import OpsEntrypoints
from services.common.rpc import RpcClients
from services.common.timers import Timer
from services.courier import contract as courier
from services.ratings import contract
from services.ratings.adapters.evaluation_dependency import Evaluation
from services.ratings.adapters.sms_dependency import Sms
from services.ratings.service_layer import indicators, rectifications, use_cases
from services.ratings.service_layer.gauges import gauges
from services.ratings.service_layer.sms import (
    DEFAULT_RELAY_SECONDS,
    RelaySettings,
    relay_messages,
)
from services.ratings.service_layer.unit_of_work import RatingsUnitOfWork
from services.workflow import contract as workflow


class SmsRelayTimer(Timer):
    """A timer whose interval is the config value SMS_RELAY_SECONDS; a bad
    SMS_* relay setting stops the service at start, not at its first pass."""

    def setup(self):
        self.interval = RelaySettings.from_config(self.container.config).interval_seconds


sms_relay_timer = SmsRelayTimer.decorator


class RectificationTimer(Timer):
    """A timer whose interval is the config value RECTIFICATION_CHECK_SECONDS.
    The sweep it runs escalates: a bad RECTIFICATION_ESCALATE_TO_OPERATOR_DAYS
    stops the service at start, not at its first sweep."""

    def setup(self):
        self.interval = rectifications.check_seconds_of(self.container.config)
        rectifications.operator_days_of(self.container.config)


rectification_timer = RectificationTimer.decorator


class LiveAnnounceTimer(Timer):
    """A timer whose interval is the config value LIVE_ANNOUNCE_SECONDS (1
    when missing or empty, as ``${LIVE_ANNOUNCE_SECONDS:1}`` reads an empty
    variable); a bad value stops the service at start."""

    def setup(self):
        value = self.container.config.get("LIVE_ANNOUNCE_SECONDS")
        if value is None or value == "":
            self.interval = 1.0
            return
        try:
            self.interval = float(value)
        except (TypeError, ValueError):
            self.interval = float("nan")
        # Not infinite either: the feed would never hear of a change.
        if not 0 < self.interval < float("inf"):
            raise ValueError(f"LIVE_ANNOUNCE_SECONDS must be a positive number, not {value!r}")


live_announce_timer = LiveAnnounceTimer.decorator


class Announced(DependencyProvider):
    """What this process last announced of the live case data (in memory: a
    new process announces once at start)."""

    def setup(self):
        self.state = {"last": None}

    def get_dependency(self, worker_ctx):
        return self.state


class RatingsService(OpsEntrypoints):
    name = "ratings"

    uow = Database(RatingsUnitOfWork, gauges=gauges)
    instrumentation = Instrumentation()
    config = Config()
    announced = Announced()
    # The SMS gateway that texts citizens (the rating link of a window visit).
    sms = Sms()
    # Review window, visit tokens, the portal the SMS links to.
    evaluation = Evaluation()
    # Calls to other services (catalog's items, for window visits), with a deadline.
    clients = RpcClients()
    # Handlers taken out, whose queues the deploy step retires (topology.retire).
    retired_handlers = (
        # Workflow records application_ended beside every application_completed,
        # in the same transaction: on_application_ended makes the case reviewable.
        Retired("workflow", "application_completed", "on_application_completed"),
        # Its count is on_application_ended's now, once per event as before.
        Retired("workflow", "application_ended", "count_case_ended", "on_application_ended"),
    )

    # --- evaluation: reviews of ended cases and window visits, replies, appeals

    @rpc(request=contract.SubmitReview, response=contract.ReviewId)
    def submit_review(self, request):
        return use_cases.submit_review(self.uow, policy=self.evaluation.policy, **request)

    @rpc(request=contract.RecordVisit, response=contract.VisitRecorded)
    def record_visit(self, request):
        return use_cases.record_visit(
            self.uow,
            self._catalog_item,
            policy=self.evaluation.policy,
            portal_url=self.evaluation.portal_url,
            **request,
        )

    @rpc(request=contract.ReviewVisit, response=contract.ReviewId)
    def review_visit(self, request):
        return use_cases.review_visit(self.uow, **request)

    @rpc(request=contract.ListStoreReviews, response=contract.StoreReviews)
    def list_store_reviews(self, request):
        return use_cases.list_store_reviews(self.uow, **request)

    @rpc(request=contract.ListReviews, response=contract.ReviewPage)
    def list_reviews(self, request):
        return use_cases.list_reviews(self.uow, **request)

    @rpc(request=contract.Reply, response=contract.ReviewView)
    def reply_to_review(self, request):
        return use_cases.reply_to_review(self.uow, **request)

    @rpc(request=contract.FileAppeal, response=contract.AppealId)
    def file_appeal(self, request):
        return use_cases.file_appeal(self.uow, **request)

    @rpc(request=contract.DecideAppeal, response=contract.Appeal)
    def decide_appeal(self, request):
        return use_cases.decide_appeal(self.uow, **request)

    @rpc(request=contract.ListAppeals, response=contract.AppealPage)
    def list_appeals(self, request):
        return use_cases.list_appeals(self.uow, **request)

    def _catalog_item(self, item_id: str) -> dict:
        """catalog's ``get_item`` answer (NotFound for an unknown item)."""
        return self.clients.call(
            "catalog", "get_item", correlation_id=self.uow.correlation_id, item_id=item_id
        )

    @rpc(request=contract.StatsQuery, response=contract.RatingStats)
    def stats(self, request):
        return indicators.stats(self.uow, **request)

    @rpc(request=contract.CaseStatsQuery, response=contract.CaseStats)
    def case_stats(self, request):
        return indicators.case_stats(self.uow, **request)

    @rpc(response=contract.CaseStatsChanged)
    def live_case_stats(self):
        return indicators.live_case_data(self.uow)

    @live_announce_timer(interval=1)
    def announce_live_case_data(self):
        """case_stats_changed for the live feed, when the counts moved."""
        self.announced["last"] = indicators.announce_live_case_data(
            self.uow, self.announced["last"]
        )

    @live_announce_timer(interval=1)
    def announce_store_ratings(self):
        """store_rating_changed for each bucket a rated change marked, with its
        store's rating: once a round per burst of changes, not once per change."""
        batch = indicators.ANNOUNCE_BATCH
        while indicators.announce_store_ratings(self.uow, batch) == batch:
            pass

    # --- rectification of bad reviews (差评整改) -------------------------------

    @rpc(request=contract.ListRectifications, response=contract.RectificationPage)
    def list_rectifications(self, request):
        return rectifications.list_rectifications(self.uow, **request)

    @rpc(request=contract.GetRectification, response=contract.Rectification)
    def get_rectification(self, request):
        return rectifications.get_rectification(self.uow, **request)

    @rpc(request=contract.Verify, response=contract.Rectification)
    def verify_rectification(self, request):
        return rectifications.verify_rectification(self.uow, **request)

    @rpc(request=contract.Resolve, response=contract.Rectification)
    def resolve_rectification(self, request):
        return rectifications.resolve_rectification(self.uow, **request)

    @rpc(request=contract.ReturnVisit, response=contract.Rectification)
    def record_return_visit(self, request):
        return rectifications.record_return_visit(self.uow, **request)

    @handles("workflow", "calendar_loaded", payload=workflow.CalendarLoaded)
    def on_calendar_loaded(self, event):
        """An operator loaded or corrected a year of the working calendar:
        rectification deadlines count on it from now on."""
        rectifications.record_calendar_year(self.uow, event)

    @rectification_timer(interval=rectifications.DEFAULT_CHECK_SECONDS)
    def escalate_rectifications(self):
        """Escalate late rectifications (督办) to the department's admin, then
        to the operator."""
        rectifications.escalate_late_rectifications(
            self.uow, operator_days=rectifications.operator_days_of(self.config)
        )

    @handles("workflow", "application_ended", payload=workflow.ApplicationEnded)
    def on_application_ended(self, event):
        """A case that ended completed, denied or rejected becomes reviewable by
        its applicant and whom it was for; its outcome counts in the live case
        data: one transaction for both, each once per event (a delivery again
        does what is left)."""
        use_cases.record_application_ended(self.uow, event)

    @handles("workflow", "case_escalated", payload=workflow.CaseEscalated)
    def on_case_escalated(self, event):
        """Late work was escalated: counted for its department's stats."""
        use_cases.record_escalation(self.uow, event)

    # --- published indicators and live case data (read models) ---------------

    @handles("ratings", "review_submitted", payload=contract.ReviewSubmitted)
    def count_review_submitted(self, event):
        """A review counts in the indicators of the day it was made."""
        indicators.count_review_submitted(self.uow, event)

    @handles("ratings", "visit_recorded", payload=contract.VisitRecordedEvent)
    def count_visit_recorded(self, event):
        """A window visit is one more service that may be rated."""
        indicators.count_visit_recorded(self.uow, event)

    @handles("ratings", "rectification_resolved", payload=contract.RectificationResolved)
    def count_rectification_resolved(self, event):
        """A bad review was rectified (counted once per review)."""
        indicators.count_rectification_resolved(self.uow, event)

    @handles("ratings", "return_visit_recorded", payload=contract.ReturnVisitRecorded)
    def count_return_visit(self, event):
        """A return visit that reached the reviewer counts the review called back."""
        indicators.count_return_visit(self.uow, event)

    @handles("ratings", "appeal_decided", payload=contract.AppealDecided)
    def count_appeal_decided(self, event):
        """An upheld appeal takes the review out of every count."""
        indicators.count_appeal_decided(self.uow, event)

    @handles("workflow", "application_submitted", payload=workflow.ApplicationSubmitted)
    def count_case_submitted(self, event):
        """A case was submitted: the live case data counts it."""
        indicators.record_case_submitted(self.uow, event)

    @handles("workflow", "application_accepted", payload=workflow.ApplicationAccepted)
    def count_case_accepted(self, event):
        """The window accepted a case."""
        indicators.record_case_accepted(self.uow, event)

    @handles("workflow", "case_overdue", payload=workflow.CaseOverdue)
    def count_case_overdue(self, event):
        """A case passed its due date unfinished."""
        indicators.record_case_overdue(self.uow, event)

    @handles("courier", "shipment_created", payload=courier.ShipmentCreated)
    def count_shipment(self, event):
        """A case's materials or result went by EMS."""
        indicators.record_shipment(self.uow, event)

    # --- text messages to citizens (SMS) -------------------------------------

    @sms_relay_timer(interval=DEFAULT_RELAY_SECONDS)
    def relay_text_messages(self):
        """Send the queued text messages that are due to the SMS gateway."""
        settings = RelaySettings.from_config(self.config)
        relay_messages(self.uow, self.sms, settings=settings, clock=clock.now)
