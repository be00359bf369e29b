"""The ratings service: reviews of completed cases, praise rates, rectifications.

python -m services.common.runner services.ratings.service:RatingsService

Entrypoints only load with a schema, call a use case and dump with a schema.
"""

from nameko.rpc import rpc

from services.common.dependencies import Database
from services.common.messaging.consumer import event_handler
from services.common.metrics import Instrumentation
from services.common.ops import OpsEntrypoints
from services.ratings import schemas
from services.ratings.schemas import load
from services.ratings.service_layer import use_cases
from services.ratings.service_layer.gauges import gauges
from services.ratings.service_layer.unit_of_work import RatingsUnitOfWork


class RatingsService(OpsEntrypoints):
    name = "ratings"

    uow = Database(RatingsUnitOfWork, gauges=gauges)
    instrumentation = Instrumentation()

    @rpc
    def submit_review(self, actor, application_id, grade, comment=None):
        args = load(
            schemas.SubmitReviewSchema(),
            {"actor": actor, "application_id": application_id, "grade": grade, "comment": comment},
        )
        review = use_cases.submit_review(self.uow, **args)
        return schemas.ReviewIdSchema().dump(review)

    @rpc
    def list_store_reviews(self, store_id, page=1, page_size=20):
        args = load(
            schemas.StoreReviewsQuerySchema(),
            {"store_id": store_id, "page": page, "page_size": page_size},
        )
        return schemas.StoreReviewsSchema().dump(use_cases.list_store_reviews(self.uow, **args))

    @rpc
    def stats(self, department=None, region=None):
        args = load(schemas.StatsQuerySchema(), {"department": department, "region": region})
        return schemas.StatsSchema().dump(use_cases.stats(self.uow, **args))

    @rpc
    def list_rectifications(self, actor, page=1, page_size=20):
        args = load(
            schemas.ListRectificationsSchema(),
            {"actor": actor, "page": page, "page_size": page_size},
        )
        page_of = use_cases.list_rectifications(self.uow, **args)
        return schemas.RectificationPageSchema().dump(page_of)

    @rpc
    def resolve_rectification(self, actor, rectification_id, comment):
        args = load(
            schemas.ResolveRectificationSchema(),
            {"actor": actor, "rectification_id": rectification_id, "comment": comment},
        )
        rectification = use_cases.resolve_rectification(self.uow, **args)
        return schemas.RectificationSchema().dump(rectification)

    @event_handler("workflow", "application_completed")
    def on_application_completed(self, envelope):
        """The completed case becomes reviewable by its applicant."""
        envelope = load(schemas.ApplicationCompletedEnvelopeSchema(), envelope)
        use_cases.record_completed_case(self.uow, envelope)
