"""The HTTP gateway: routes of the API (v1), each a few lines.

What every route shares (correlation id, JSON parsing, validation, tokens,
errors, metrics) is in ``gateway.http``; the wire format is in
``gateway.schemas``. Public catalogue reads go through the process-local cache
(``gateway.catalog_cache``); commands take one RPC hop.
"""

from datetime import datetime

import eventlet
from kombu import Connection
from nameko.dependency_providers import Config
from nameko.events import BROADCAST, event_handler
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from werkzeug.wrappers import Response

from gateway import openapi
from gateway import schemas as s
from gateway.auth import OPERATOR, SIGNED_IN, STAFF, KeyRing, staff_with
from gateway.catalog_cache import CatalogCache, apply_event, cache_key
from gateway.errors import json_response
from gateway.http import Call, route
from gateway.sessions import apply_session_revoked
from gateway.webhooks import record_arguments, verify_ems_request
from services.common import instances
from services.common.config import amqp_uri
from services.common.errors import Unavailable
from services.common.metrics import Instrumentation
from services.common.rpc import RpcClients

CACHED = {"cached": True}
ITEM_ADMIN = staff_with("dept_admin", operator=True)
CASE_WORKER = staff_with("window_clerk", "approver")


def as_page(result, query: dict, key: str = "items", rename_to: str = "items") -> dict:
    """Every collection answers ``{"items": [...], "page", "page_size", "total"}``,
    whatever the service called its list."""
    if isinstance(result, list):
        return {
            rename_to: result,
            "page": query["page"],
            "page_size": query["page_size"],
            "total": None,
        }
    result = dict(result)
    if key != rename_to and key in result:
        result[rename_to] = result.pop(key)
    return result


# The workflow's largest page; lists that span instances fetch in pages of this.
WORKFLOW_MAX_PAGE_SIZE = 100


def _instant(value) -> float:
    """An ISO 8601 instant as a number to sort by (missing or odd: oldest)."""
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return float("-inf")


def newest_first(items: list, at: str, key: str) -> list:
    """Merged items from several instances in one order: ``at`` descending, then
    ``key`` ascending (the order each instance lists in)."""
    return sorted(items, key=lambda item: (-_instant(item.get(at)), str(item.get(key))))


def _broadcast(source: str, event_type: str):
    # One auto-deleted queue per gateway process: every process drops its own
    # entries; a process that was down has an empty cache anyway (but knows
    # nothing of sessions that ended meanwhile: see gateway.sessions).
    return event_handler(source, event_type, handler_type=BROADCAST, reliable_delivery=False)


class GatewayService:
    name = "gateway"

    rpc = RpcClients()
    keys = KeyRing()
    catalog = CatalogCache()
    instrumentation = Instrumentation()
    config = Config()

    def _call(self, call: Call, service: str, method: str, **kwargs):
        return self.rpc.call(service, method, correlation_id=call.correlation_id, **kwargs)

    def _cached(self, call: Call, key: tuple, service: str, method: str, **kwargs):
        return self.catalog.get(key, lambda: self._call(call, service, method, **kwargs))

    # ------------------------------------------------------- workflow instances

    def _workflow_departments(self) -> list[str]:
        """Departments running their own workflow instance (WORKFLOW_DEPARTMENTS)."""
        return instances.parse_departments(self.config.get("WORKFLOW_DEPARTMENTS"))

    def _workflow_instances(self) -> list[str]:
        """The shared instance, then every configured department instance."""
        return [instances.SHARED_WORKFLOW] + [
            instances.instance_for(code) for code in self._workflow_departments()
        ]

    def _configured(self, instance: str) -> str:
        """``instance`` when this gateway knows it; 503 (not a timeout) otherwise."""
        if instance not in self._workflow_instances():
            raise Unavailable(
                f"workflow instance {instance} is not configured at this gateway"
                " (WORKFLOW_DEPARTMENTS)"
            )
        return instance

    def _instance_of(self, identifier: str) -> str:
        """The instance an application id or licence number names (its prefix)."""
        return self._configured(instances.workflow_instance_of(identifier))

    def _each_instance(self, targets: list[str], fetch) -> list:
        """``fetch(instance)`` for every instance at once; any failure fails the
        whole answer (503/504), never a silently shorter list."""
        if len(targets) == 1:
            return [fetch(targets[0])]
        pile = eventlet.GreenPile(len(targets))
        for instance in targets:
            pile.spawn(fetch, instance)
        return list(pile)

    def _merged_page(self, call: Call, targets: list[str], method: str, query: dict, **kwargs):
        """One page of a list that spans workflow instances, newest first.

        Each instance is asked for its first ``page * page_size`` cases (in pages
        the workflow accepts); the merged list is paged here and ``total`` is the
        sum of the instances' totals. One instance: its answer as it is.
        """
        page, page_size = query["page"], query["page_size"]
        if len(targets) == 1:
            result = self._call(call, targets[0], method, **kwargs, **query)
            return as_page(result, query)
        wanted = page * page_size
        fetch_size = min(WORKFLOW_MAX_PAGE_SIZE, wanted)
        rest = {key: value for key, value in query.items() if key not in ("page", "page_size")}

        def top(instance):
            items, total, number = [], 0, 1
            while len(items) < wanted:
                result = self._call(
                    call, instance, method, **kwargs, **rest, page=number, page_size=fetch_size
                )
                if isinstance(result, list):  # an unpaged answer: the whole list
                    return result, len(result)
                got = list(result.get("items") or ())
                items.extend(got)
                total = int(result.get("total") or 0)
                if len(got) < fetch_size or len(items) >= total:
                    break
                number += 1
            return items, total

        answers = self._each_instance(targets, top)
        merged = newest_first(
            [item for items, _ in answers for item in items], "submitted_at", "application_id"
        )
        start = (page - 1) * page_size
        return {
            "items": merged[start : start + page_size],
            "page": page,
            "page_size": page_size,
            "total": sum(total for _, total in answers),
        }

    # ---------------------------------------------------------------- identity

    @route(
        "POST",
        "/api/v1/auth/register",
        request=s.RegisterRequest,
        response=s.UserId,
        status=201,
        rate_limited=True,
        tags=("identity",),
        summary="Register a citizen account",
        errors=(409,),
    )
    def register(self, call):
        return self._call(call, "identity", "register", **call.body)

    @route(
        "POST",
        "/api/v1/auth/login",
        request=s.LoginRequest,
        response=s.TokenPair,
        rate_limited=True,
        tags=("identity",),
        summary="Sign in with phone and password",
        errors=(401,),
    )
    def login(self, call):
        return self._call(call, "identity", "login", **call.body)

    @route(
        "POST",
        "/api/v1/auth/refresh",
        request=s.RefreshRequest,
        response=s.TokenPair,
        rate_limited=True,
        tags=("identity",),
        summary="Exchange a refresh token for a new pair (the old one stops working)",
        errors=(401,),
    )
    def refresh(self, call):
        return self._call(call, "identity", "refresh", **call.body)

    @route(
        "POST",
        "/api/v1/auth/logout",
        request=s.Empty,
        status=204,
        auth=SIGNED_IN,
        tags=("identity",),
        summary="End the session of the bearer token",
        description=(
            "Its refresh tokens are revoked at once; its access tokens are refused by"
            " every running gateway process as soon as identity's session_revoked"
            " event reaches it (a process started later accepts them until they expire)."
        ),
    )
    def logout(self, call):
        self._call(call, "identity", "logout", session_id=call.claims.get("sid"))

    @route(
        "GET",
        "/.well-known/jwks.json",
        response=s.Jwks,
        tags=("identity",),
        summary="Public keys that sign access tokens",
        description="Served from the gateway's copy of identity's JWKS.",
    )
    def jwks(self, call):
        if self.keys.jwks is None:
            raise Unavailable("signing keys are not loaded yet")
        return self.keys.jwks

    @route(
        "GET",
        "/api/v1/me",
        response=s.Profile,
        auth=SIGNED_IN,
        tags=("identity",),
        summary="My profile, with assurance level and masked ID number",
    )
    def me(self, call):
        return self._call(call, "identity", "get_profile", user_id=call.actor["user_id"])

    @route(
        "POST",
        "/api/v1/me/real-name",
        request=s.RealNameRequest,
        response=s.AssuranceLevel,
        auth=SIGNED_IN,
        tags=("identity",),
        summary="Verify my real name against my ID number",
        errors=(409,),
    )
    def verify_real_name(self, call):
        return self._call(
            call, "identity", "verify_real_name", user_id=call.actor["user_id"], **call.body
        )

    @route(
        "POST",
        "/api/v1/enterprises",
        request=s.EnterpriseRequest,
        response=s.Enterprise,
        status=201,
        auth=SIGNED_IN,
        tags=("identity",),
        summary="Register an enterprise (needs a real-name verified account)",
        errors=(403, 409),
    )
    def register_enterprise(self, call):
        return self._call(call, "identity", "register_enterprise", actor=call.actor, **call.body)

    @route(
        "GET",
        "/api/v1/enterprises/<uscc>",
        response=s.Enterprise,
        auth=SIGNED_IN,
        tags=("identity",),
        summary="An enterprise by its unified social credit code",
        errors=(404,),
    )
    def get_enterprise(self, call, uscc):
        return self._call(call, "identity", "get_enterprise", uscc=uscc)

    @route(
        "POST",
        "/api/v1/admin/staff",
        request=s.StaffRequest,
        response=s.UserId,
        status=201,
        auth=OPERATOR,
        tags=("identity",),
        summary="Create a staff account (operators only)",
        errors=(409,),
    )
    def create_staff(self, call):
        return self._call(call, "identity", "create_staff", actor=call.actor, **call.body)

    # ---------------------------------------------------------------- catalog

    @route(
        "GET",
        "/api/v1/regions",
        response=s.collection(s.Region),
        tags=("catalog",),
        summary="Administrative regions (province, cities, counties)",
        **CACHED,
    )
    def regions(self, call):
        return {"items": self._cached(call, cache_key("regions"), "catalog", "list_regions")}

    @route(
        "GET",
        "/api/v1/departments",
        query=s.DepartmentQuery,
        response=s.collection(s.Department),
        tags=("catalog",),
        summary="Departments, optionally of one region",
        **CACHED,
    )
    def departments(self, call):
        key = cache_key("departments", **call.query)
        return {"items": self._cached(call, key, "catalog", "list_departments", **call.query)}

    @route(
        "GET",
        "/api/v1/items",
        query=s.ItemSearchQuery,
        response=s.ItemPage,
        tags=("catalog",),
        summary="Search published service items",
        **CACHED,
    )
    def search_items(self, call):
        key = cache_key("items", **call.query)
        return self._cached(call, key, "catalog", "search_items", **call.query)

    @route(
        "GET",
        "/api/v1/items/<item_id>",
        response=s.ItemGuide,
        tags=("catalog",),
        summary="The full service guide of an item",
        errors=(404,),
        **CACHED,
    )
    def get_item(self, call, item_id):
        key = cache_key("item", item_id)
        return self._cached(call, key, "catalog", "get_item", item_id=item_id)

    @route(
        "POST",
        "/api/v1/items",
        request=s.ItemCreateRequest,
        response=s.ItemGuide,
        status=201,
        auth=ITEM_ADMIN,
        tags=("catalog",),
        summary="Create a draft item (department admin)",
        errors=(409,),
    )
    def create_item(self, call):
        return self._call(call, "catalog", "create_item", actor=call.actor, data=call.body)

    @route(
        "PUT",
        "/api/v1/items/<item_id>",
        request=s.ItemUpdateRequest,
        response=s.ItemGuide,
        auth=ITEM_ADMIN,
        tags=("catalog",),
        summary="Change guide fields of an item (department admin); give only those that change",
        errors=(404, 409),
    )
    def update_item(self, call, item_id):
        return self._call(
            call, "catalog", "update_item", actor=call.actor, item_id=item_id, data=call.body
        )

    @route(
        "POST",
        "/api/v1/items/<item_id>/publish",
        request=s.Empty,
        response=s.ItemGuide,
        auth=ITEM_ADMIN,
        tags=("catalog",),
        summary="Publish an item (department admin)",
        errors=(404, 409),
    )
    def publish_item(self, call, item_id):
        return self._call(call, "catalog", "publish_item", actor=call.actor, item_id=item_id)

    @route(
        "POST",
        "/api/v1/items/<item_id>/retire",
        request=s.Empty,
        response=s.ItemGuide,
        auth=ITEM_ADMIN,
        tags=("catalog",),
        summary="Retire a published item (department admin)",
        errors=(404, 409),
    )
    def retire_item(self, call, item_id):
        return self._call(call, "catalog", "retire_item", actor=call.actor, item_id=item_id)

    @route(
        "GET",
        "/api/v1/stores",
        response=s.collection(s.Store),
        tags=("catalog",),
        summary="Flagship stores with their rating summaries",
        **CACHED,
    )
    def stores(self, call):
        return {"items": self._cached(call, cache_key("stores"), "catalog", "list_stores")}

    @route(
        "GET",
        "/api/v1/stores/<store_id>",
        response=s.Store,
        tags=("catalog",),
        summary="A flagship store with its rating summary",
        errors=(404,),
        **CACHED,
    )
    def get_store(self, call, store_id):
        key = cache_key("store", store_id)
        return self._cached(call, key, "catalog", "get_store", store_id=store_id)

    @route(
        "GET",
        "/api/v1/stats/catalog",
        tags=("catalog",),
        summary="Online rate by level and region; three-level consistency report",
    )
    def catalog_stats(self, call):
        return self._call(call, "catalog", "catalog_stats")

    # ---------------------------------------------------------------- workflow

    @route(
        "POST",
        "/api/v1/applications",
        request=s.SubmitApplicationRequest,
        response=s.Submitted,
        status=201,
        auth=SIGNED_IN,
        tags=("workflow",),
        summary="Submit an application",
        description=(
            "Sent to the workflow instance that the item's guide names (handled_by);"
            " 503 when that instance is not one this gateway is configured for."
            " A department instance's application ids start with '<department code>.'."
        ),
        errors=(403, 404, 503),
    )
    def submit_application(self, call):
        guide = self._cached(
            call, cache_key("item", call.body["item_id"]), "catalog", "get_item",
            item_id=call.body["item_id"],
        )  # fmt: skip
        instance = self._configured(guide.get("handled_by") or instances.SHARED_WORKFLOW)
        return self._call(call, instance, "submit_application", actor=call.actor, **call.body)

    @route(
        "GET",
        "/api/v1/applications",
        query=s.PageQuery,
        response=s.ApplicationPage,
        auth=SIGNED_IN,
        tags=("workflow",),
        summary="My applications",
        description="From every workflow instance, newest first.",
    )
    def my_applications(self, call):
        return self._merged_page(
            call, self._workflow_instances(), "list_applications", call.query, actor=call.actor
        )

    @route(
        "GET",
        "/api/v1/applications/<application_id>",
        response=s.Application,
        auth=SIGNED_IN,
        tags=("workflow",),
        summary="An application with its timeline",
        errors=(404,),
    )
    def get_application(self, call, application_id):
        instance = self._instance_of(application_id)
        return self._call(
            call, instance, "get_application", actor=call.actor, application_id=application_id
        )

    @route(
        "POST",
        "/api/v1/applications/<application_id>/withdraw",
        request=s.Empty,
        response=s.Application,
        auth=SIGNED_IN,
        tags=("workflow",),
        summary="Withdraw my application",
        errors=(404, 409),
    )
    def withdraw(self, call, application_id):
        instance = self._instance_of(application_id)
        return self._call(
            call, instance, "withdraw", actor=call.actor, application_id=application_id
        )

    @route(
        "POST",
        "/api/v1/applications/<application_id>/supplement",
        request=s.SupplementRequest,
        response=s.Application,
        auth=SIGNED_IN,
        tags=("workflow",),
        summary="Add the materials a clerk asked for",
        errors=(404, 409),
    )
    def supplement(self, call, application_id):
        return self._call(
            call,
            self._instance_of(application_id),
            "supplement",
            actor=call.actor,
            application_id=application_id,
            **call.body,
        )

    @route(
        "GET",
        "/api/v1/worklist",
        query=s.WorklistQuery,
        response=s.ApplicationPage,
        auth=STAFF,
        tags=("workflow",),
        summary="Cases of my department (staff)",
        description=(
            "A department with its own workflow instance (WORKFLOW_DEPARTMENTS) sees"
            " that instance's cases and the shared instance's it reviews jointly."
        ),
    )
    def worklist(self, call):
        query = {"state": None, **call.query}
        department = call.actor.get("department_code")
        targets = [instances.SHARED_WORKFLOW]
        if department in self._workflow_departments():
            targets.insert(0, instances.instance_for(department))
        return self._merged_page(call, targets, "worklist", query, actor=call.actor)

    @route(
        "POST",
        "/api/v1/applications/<application_id>/actions",
        request=s.ActionRequest,
        response=s.Application,
        auth=CASE_WORKER,
        tags=("workflow",),
        summary="Act on a case (window clerk or approver)",
        errors=(404, 409),
    )
    def act(self, call, application_id):
        instance = self._instance_of(application_id)
        return self._call(
            call, instance, "act", actor=call.actor, application_id=application_id, **call.body
        )

    @route(
        "GET",
        "/api/v1/licences",
        response=s.collection(s.Licence),
        auth=SIGNED_IN,
        tags=("workflow",),
        summary="My electronic licences",
        description="From every workflow instance, newest first.",
    )
    def my_licences(self, call):
        answers = self._each_instance(
            self._workflow_instances(),
            lambda instance: self._call(call, instance, "list_licences", actor=call.actor),
        )
        if len(answers) == 1:
            return {"items": answers[0]}
        merged = [licence for answer in answers for licence in answer or ()]
        return {"items": newest_first(merged, "issued_at", "licence_no")}

    @route(
        "GET",
        "/api/v1/licences/<licence_no>/verify",
        response=s.LicenceCheck,
        tags=("workflow",),
        summary="Check that a licence is genuine (public)",
        errors=(404,),
    )
    def verify_licence(self, call, licence_no):
        instance = self._instance_of(licence_no)
        return self._call(call, instance, "verify_licence", licence_no=licence_no)

    # ---------------------------------------------------------------- courier

    @route(
        "GET",
        "/api/v1/shipments",
        query=s.ShipmentQuery,
        response=s.collection(s.Shipment),
        auth=SIGNED_IN,
        tags=("courier",),
        summary="EMS shipments of an application",
        errors=(404,),
    )
    def shipments(self, call):
        shipments = self._call(call, "courier", "list_shipments", actor=call.actor, **call.query)
        return {"items": shipments}

    @route(
        "GET",
        "/api/v1/shipments/<tracking_no>",
        response=s.Shipment,
        auth=SIGNED_IN,
        tags=("courier",),
        summary="An EMS shipment with its tracking events",
        errors=(404,),
    )
    def get_shipment(self, call, tracking_no):
        return self._call(
            call, "courier", "get_shipment", actor=call.actor, tracking_no=tracking_no
        )

    @route(
        "POST",
        "/api/v1/webhooks/ems",
        request=s.EmsEvent,
        response=s.Status,
        verify_body=verify_ems_request,
        tags=("courier",),
        summary="EMS status callback (HMAC-signed: X-EMS-Timestamp, X-EMS-Signature)",
        errors=(401, 404),
    )
    def ems_webhook(self, call):
        self._call(call, "courier", "record_ems_event", **record_arguments(call.body))
        return {"status": "ok"}

    # ---------------------------------------------------------------- ratings

    @route(
        "POST",
        "/api/v1/applications/<application_id>/review",
        request=s.ReviewRequest,
        response=s.ReviewId,
        status=201,
        auth=SIGNED_IN,
        tags=("ratings",),
        summary="Rate a completed case (grade 1..5)",
        errors=(403, 404, 409),
    )
    def review(self, call, application_id):
        return self._call(
            call,
            "ratings",
            "submit_review",
            actor=call.actor,
            application_id=application_id,
            **call.body,
        )

    @route(
        "GET",
        "/api/v1/stores/<store_id>/reviews",
        query=s.PageQuery,
        response=s.ReviewPage,
        tags=("ratings",),
        summary="Reviews of a flagship store",
        **CACHED,
    )
    def store_reviews(self, call, store_id):
        key = cache_key("reviews", store_id, **call.query)
        result = self._cached(
            call, key, "ratings", "list_store_reviews", store_id=store_id, **call.query
        )
        return as_page(result, call.query, "reviews", rename_to="items")

    @route(
        "GET",
        "/api/v1/stats/ratings",
        query=s.RatingStatsQuery,
        tags=("ratings",),
        summary="Praise rates by department and region",
    )
    def rating_stats(self, call):
        return self._call(call, "ratings", "stats", **call.query)

    @route(
        "GET",
        "/api/v1/rectifications",
        query=s.PageQuery,
        response=s.RectificationPage,
        auth=STAFF,
        tags=("ratings",),
        summary="Bad reviews my department must rectify (staff)",
    )
    def rectifications(self, call):
        result = self._call(call, "ratings", "list_rectifications", actor=call.actor, **call.query)
        return as_page(result, call.query, "rectifications", rename_to="items")

    @route(
        "POST",
        "/api/v1/rectifications/<rectification_id>/resolve",
        request=s.ResolveRequest,
        response=s.Rectification,
        auth=STAFF,
        tags=("ratings",),
        summary="Record how a bad review was rectified (staff)",
        errors=(404, 409),
    )
    def resolve_rectification(self, call, rectification_id):
        return self._call(
            call,
            "ratings",
            "resolve_rectification",
            actor=call.actor,
            rectification_id=rectification_id,
            **call.body,
        )

    # ---------------------------------------------------------------- cache freshness

    @_broadcast("catalog", "item_published")
    def on_item_published(self, body):
        apply_event(self.catalog, "item_published", body)

    @_broadcast("catalog", "item_retired")
    def on_item_retired(self, body):
        apply_event(self.catalog, "item_retired", body)

    @_broadcast("catalog", "store_rating_updated")
    def on_store_rating_updated(self, body):
        apply_event(self.catalog, "store_rating_updated", body)

    @_broadcast("ratings", "review_submitted")
    def on_review_submitted(self, body):
        apply_event(self.catalog, "review_submitted", body)

    # ---------------------------------------------------------------- sessions

    @_broadcast("identity", "session_revoked")
    def on_session_revoked(self, body):
        apply_session_revoked(self.keys.revoked_sessions, body)

    # ---------------------------------------------------------------- operations

    @route("GET", "/healthz", tags=("ops",), summary="The process is alive")
    def healthz(self, call):
        return {"status": "ok", "service": self.name}

    @route(
        "GET",
        "/readyz",
        tags=("ops",),
        summary="Ready for traffic: signing keys loaded and the broker answers",
        errors=(503,),
    )
    def readyz(self, call):
        checks = {"jwks": "ok" if self.keys.ready else "not loaded"}
        try:
            with Connection(amqp_uri(self.config), connect_timeout=2) as connection:
                connection.ensure_connection(max_retries=1, timeout=2)
            checks["broker"] = "ok"
        except Exception as exc:  # noqa: BLE001  (a probe reports, never crashes)
            checks["broker"] = f"failed: {type(exc).__name__}"
        ready = all(value == "ok" for value in checks.values())
        body = {"status": "ready" if ready else "not ready", "checks": checks}
        return json_response(200 if ready else 503, body)

    @route(
        "GET", "/metrics", tags=("ops",), summary="Prometheus metrics", content_type="text/plain"
    )
    def metrics(self, call):
        return Response(generate_latest(), mimetype=CONTENT_TYPE_LATEST)

    @route("GET", "/openapi.json", tags=("ops",), summary="This API as OpenAPI 3")
    def openapi_document(self, call):
        return json_response(200, openapi.document_for(type(self), self.config))

    @route(
        "GET", "/docs", tags=("ops",), summary="API documentation (HTML)", content_type="text/html"
    )
    def docs(self, call):
        return Response(openapi.docs_page(type(self), self.config), mimetype="text/html")
