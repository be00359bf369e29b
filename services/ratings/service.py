"""The ratings service: reviews of completed cases, praise rates, rectifications.

python -m operations.runner services.ratings.service:RatingsService
"""

from services.common.dependencies import Database
from services.common.entrypoints import handles, rpc
from services.common.metrics import Instrumentation
from services.common.ops import OpsEntrypoints
from services.ratings import contract
from services.ratings.service_layer import use_cases
from services.ratings.service_layer.gauges import gauges
from services.ratings.service_layer.unit_of_work import RatingsUnitOfWork
from services.workflow import contract as workflow


class RatingsService(OpsEntrypoints):
    name = "ratings"

    uow = Database(RatingsUnitOfWork, gauges=gauges)
    instrumentation = Instrumentation()

    @rpc(request=contract.SubmitReview, response=contract.ReviewId)
    def submit_review(self, request):
        return use_cases.submit_review(self.uow, **request)

    @rpc(request=contract.ListStoreReviews, response=contract.StoreReviews)
    def list_store_reviews(self, request):
        return use_cases.list_store_reviews(self.uow, **request)

    @rpc(request=contract.StatsQuery, response=contract.RatingStats)
    def stats(self, request):
        return use_cases.stats(self.uow, **request)

    @rpc(request=contract.ListRectifications, response=contract.RectificationPage)
    def list_rectifications(self, request):
        return use_cases.list_rectifications(self.uow, **request)

    @rpc(request=contract.ResolveRectification, response=contract.Rectification)
    def resolve_rectification(self, request):
        return use_cases.resolve_rectification(self.uow, **request)

    @handles("workflow", "application_completed", payload=workflow.ApplicationCompleted)
    def on_application_completed(self, event):
        """The completed case becomes reviewable by its applicant."""
        use_cases.record_completed_case(self.uow, event)

    @handles("workflow", "case_escalated", payload=workflow.CaseEscalated)
    def on_case_escalated(self, event):
        """Late work was escalated: counted for its department's stats."""
        use_cases.record_escalation(self.uow, event)
