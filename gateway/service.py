"""The HTTP gateway: routes of the API (v1), each a few lines.

What every route shares (correlation id, JSON parsing, validation, tokens,
errors, metrics, the access log) is in ``gateway.http``. Each route names the
owning service's contract schemas for its body, query and answer, and forwards
the service's answer as it is. Public catalogue reads go through the
process-local cache (``gateway.catalog_cache``); commands take one RPC hop;
which workflow instance answers is ``gateway.workflow_instances``'s.
"""

from kombu import Connection
from nameko.dependency_providers import Config
from nameko.events import BROADCAST, event_handler
from nameko.extensions import DependencyProvider
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from werkzeug.wrappers import Response

from gateway import openapi
from gateway import schemas as s
from gateway.auth import OPERATOR, SIGNED_IN, STAFF, Access, KeyRing, staff_with
from gateway.catalog_cache import CatalogCache, FiguresCache, apply_event
from gateway.errors import json_response
from gateway.http import Call, idempotency_key, route
from gateway.licences import LicenceCheckLimit, merged_jwks
from gateway.live import LiveFeeds, apply_case_stats_changed, event_stream_response
from gateway.oidc import OidcRoutes
from gateway.portal import PortalRoutes
from gateway.search import CatalogSearch
from gateway.sessions import (
    apply_account_locked,
    apply_account_unlocked,
    apply_session_revoked,
)
from gateway.webhooks import WEBHOOK_SECRETS, verify_ems_request, verify_payment_request
from gateway.workflow_instances import (
    WorkflowInstances,
    newest_raised_first,
    soonest_due_first,
)
from services.catalog import contract as catalog
from services.common import instances
from services.common.config import amqp_uri
from services.common.environment import RequiredSecrets
from services.common.errors import NotFound, Unavailable
from services.common.metrics import Instrumentation
from services.common.read_cache import cache_key, payload_of
from services.common.rpc import RpcClients
from services.courier import contract as courier
from services.identity import contract as identity
from services.ratings import contract as ratings
from services.workflow import contract as workflow

CACHED = {"cached": True}
ITEM_ADMIN = staff_with("dept_admin", operator=True)
CASE_WORKER = staff_with("window_clerk", "approver")
WINDOW_CLERK = staff_with("window_clerk")
DEPT_ADMIN = staff_with("dept_admin")
RATINGS_STAFF = Access(kinds=frozenset({"staff", "operator"}))


def _broadcast(source: str, event_type: str):
    # One auto-deleted queue per gateway process: every process drops its own
    # entries; a process that was down has an empty cache anyway (but knows
    # nothing of sessions that ended meanwhile: see gateway.sessions).
    return event_handler(source, event_type, handler_type=BROADCAST, reliable_delivery=False)


class Workflows(DependencyProvider):
    """The workflow instances this gateway routes to (WORKFLOW_DEPARTMENTS)."""

    def setup(self):
        self.instances = WorkflowInstances.from_config(self.container.config)

    def get_dependency(self, worker_ctx):
        return self.instances


class GatewayService(OidcRoutes, PortalRoutes):
    # The OpenID Connect provider's routes are in gateway.oidc, the portal's in
    # gateway.portal.
    name = "gateway"

    # Outside development: no start without the webhook secrets.
    secrets = RequiredSecrets(WEBHOOK_SECRETS)
    rpc = RpcClients()
    keys = KeyRing()
    reads = CatalogCache()
    search = CatalogSearch()
    figures = FiguresCache()
    live = LiveFeeds()
    workflows = Workflows()
    licence_checks = LicenceCheckLimit()
    instrumentation = Instrumentation()
    config = Config()

    def _call(self, call: Call, service: str, method: str, **kwargs):
        return self.rpc.call(service, method, correlation_id=call.correlation_id, **kwargs)

    def _stats(self, call: Call, key: tuple, method: str, **query):
        return self.figures.get(key, lambda: self._call(call, "ratings", method, **query))

    def _caller(self, call: Call):
        """``call(service, method, **arguments)`` with this request's correlation id."""
        return lambda service, method, **kwargs: self._call(call, service, method, **kwargs)

    def _cached(self, call: Call, key: tuple, service: str, method: str, **kwargs):
        return self.reads.get(key, lambda: self._call(call, service, method, **kwargs))

    # ---------------------------------------------------------------- identity

    @route(
        "POST",
        "/api/v1/auth/register",
        request=identity.Register,
        response=identity.UserId,
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
        request=identity.Credentials,
        response=identity.TokenPair,
        rate_limited=True,
        tags=("identity",),
        summary="Sign in with phone and password",
        description=(
            "After LOGIN_LOCK_FAILURES (5) failed sign-ins of one phone within"
            " LOGIN_LOCK_WINDOW_SECONDS, or LOGIN_ADDRESS_LOCK_FAILURES (50) from one"
            " client address, sign-in is locked for a while (1, 2, 4 ... minutes, at"
            " most LOGIN_LOCK_MAX_SECONDS): the 401 is the one of a wrong password,"
            " with a Retry-After header, and no password is checked meanwhile."
        ),
        errors=(401,),
    )
    def login(self, call):
        return self._call(
            call, "identity", "login", client_address=call.client_address, **call.body
        )

    @route(
        "POST",
        "/api/v1/auth/refresh",
        request=identity.Refresh,
        response=identity.TokenPair,
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
            " event reaches it, and by a process started later (it loads the ended"
            " sessions before it is ready)."
        ),
    )
    def logout(self, call):
        self._call(call, "identity", "logout", session_id=call.claims.get("sid"))

    @route(
        "GET",
        "/.well-known/jwks.json",
        response=identity.Jwks,
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
        response=identity.Profile,
        auth=SIGNED_IN,
        tags=("identity",),
        summary="My profile, with assurance level and masked ID number",
    )
    def me(self, call):
        return self._call(call, "identity", "get_profile", user_id=call.actor["user_id"])

    @route(
        "POST",
        "/api/v1/me/real-name",
        request=identity.RealNameBody,
        response=identity.Level,
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
        request=identity.EnterpriseBody,
        response=identity.Enterprise,
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
        path=identity.UsccRequest,
        response=identity.Enterprise,
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
        request=identity.StaffBody,
        response=identity.UserId,
        status=201,
        auth=OPERATOR,
        tags=("identity",),
        summary="Create a staff account (operators only)",
        errors=(409,),
    )
    def create_staff(self, call):
        return self._call(call, "identity", "create_staff", actor=call.actor, **call.body)

    @route(
        "POST",
        "/api/v1/admin/keys/rotate",
        request=s.Empty,
        response=identity.KeyRotation,
        status=201,
        auth=OPERATOR,
        tags=("identity",),
        summary="Add a signing key (operators only); it signs once every gateway has it",
        description=(
            "The new key is in the JWKS at once and signs access tokens from"
            " `signs_from` (SIGNING_KEY_PUBLISH_SECONDS later, longer than the gateways'"
            " JWKS_REFRESH_SECONDS). Tokens of the older keys stay valid until they expire;"
            " then those keys leave the JWKS. While a key is pending, that key is answered"
            " and none is added. identity also rotates every SIGNING_KEY_ROTATION_DAYS."
        ),
    )
    def rotate_signing_key(self, call):
        return self._call(call, "identity", "rotate_signing_key", actor=call.actor)

    @route(
        "GET",
        "/api/v1/admin/keys",
        query=identity.SigningKeysQuery,
        response=identity.SigningKeyPage,
        auth=OPERATOR,
        tags=("identity",),
        summary="The signing keys, newest first, and their status (operators only)",
    )
    def list_signing_keys(self, call):
        return self._call(call, "identity", "list_signing_keys", actor=call.actor, **call.query)

    @route(
        "POST",
        "/api/v1/admin/accounts/<user_id>/unlock",
        path=identity.UnlockAccount,
        request=s.Empty,
        response=identity.AccountLock,
        auth=OPERATOR,
        tags=("identity",),
        summary="Lift an account's sign-in lock and clear its failed sign-ins (operators only)",
    )
    def unlock_account(self, call, user_id):
        return self._call(call, "identity", "unlock_account", actor=call.actor, user_id=user_id)

    @route(
        "GET",
        "/api/v1/admin/pii-access",
        query=identity.PiiAccessQuery,
        response=identity.PiiAccessPage,
        auth=OPERATOR,
        tags=("identity",),
        summary="Who read whose full ID number, why and when, newest first (operators only)",
        description=(
            "Every read of a full ID number by someone other than its owner: identity's"
            " answers to other services' decisions and case reviews, and workflow's reads"
            " of a principal it keeps by number (subject_kind application_principal, the"
            " subject an application id). Filter by subject_id and/or accessor_id."
        ),
    )
    def list_pii_access(self, call):
        return self._call(call, "identity", "list_pii_access", actor=call.actor, **call.query)

    # Enterprise members and mandates to agents (代办制).

    @route(
        "POST",
        "/api/v1/enterprises/<uscc>/members",
        path=identity.AddMember,
        request=identity.MemberBody,
        response=identity.Member,
        status=201,
        auth=SIGNED_IN,
        tags=("identity",),
        summary="Add a member who acts for the enterprise (its owner)",
        description="The member is a real-name verified citizen other than the owner.",
        errors=(409,),
    )
    def add_enterprise_member(self, call, uscc):
        return self._call(
            call, "identity", "add_enterprise_member", actor=call.actor, uscc=uscc, **call.body
        )

    @route(
        "GET",
        "/api/v1/enterprises/<uscc>/members",
        path=identity.ListMembers,
        query=identity.MembersQuery,
        response=identity.MemberPage,
        auth=SIGNED_IN,
        tags=("identity",),
        summary="The enterprise's members (its owner, its members, operators)",
    )
    def list_enterprise_members(self, call, uscc):
        return self._call(
            call, "identity", "list_enterprise_members", actor=call.actor, uscc=uscc, **call.query
        )

    @route(
        "DELETE",
        "/api/v1/enterprises/<uscc>/members/<user_id>",
        path=identity.RemoveMember,
        status=204,
        auth=SIGNED_IN,
        tags=("identity",),
        summary="Remove a member: they act for the enterprise no more (its owner)",
    )
    def remove_enterprise_member(self, call, uscc, user_id):
        self._call(
            call,
            "identity",
            "remove_enterprise_member",
            actor=call.actor,
            uscc=uscc,
            user_id=user_id,
        )

    @route(
        "POST",
        "/api/v1/enterprises/<uscc>/mandates",
        path=identity.GrantEnterpriseMandate,
        request=identity.MandateBody,
        response=identity.MandateId,
        status=201,
        auth=SIGNED_IN,
        tags=("identity",),
        summary="Mandate an agent to apply for the enterprise (its owner)",
        description=(
            "The agent is a staff member with the role agent (a government service"
            " centre's) or a real-name verified citizen; for the items listed (every item"
            " when none), through expires_on (after today, at most a year ahead)."
        ),
    )
    def grant_enterprise_mandate(self, call, uscc):
        return self._call(
            call, "identity", "grant_enterprise_mandate", actor=call.actor, uscc=uscc, **call.body
        )

    @route(
        "GET",
        "/api/v1/enterprises/<uscc>/mandates",
        path=identity.ListEnterpriseMandates,
        query=identity.EnterpriseMandatesQuery,
        response=identity.MandatePage,
        auth=SIGNED_IN,
        tags=("identity",),
        summary="The enterprise's mandates, each active, expired or revoked",
    )
    def list_enterprise_mandates(self, call, uscc):
        return self._call(
            call, "identity", "list_enterprise_mandates", actor=call.actor, uscc=uscc, **call.query
        )

    @route(
        "DELETE",
        "/api/v1/enterprises/<uscc>/mandates/<mandate_id>",
        path=identity.RevokeEnterpriseMandate,
        status=204,
        auth=SIGNED_IN,
        tags=("identity",),
        summary="Revoke a mandate: the agent's next action on any case is refused (its owner)",
    )
    def revoke_enterprise_mandate(self, call, uscc, mandate_id):
        self._call(
            call,
            "identity",
            "revoke_enterprise_mandate",
            actor=call.actor,
            uscc=uscc,
            mandate_id=mandate_id,
        )

    @route(
        "POST",
        "/api/v1/me/mandates",
        request=identity.MandateBody,
        response=identity.MandateId,
        status=201,
        auth=SIGNED_IN,
        tags=("identity",),
        summary="Mandate an agent to apply for me (citizens)",
    )
    def grant_my_mandate(self, call):
        return self._call(call, "identity", "grant_personal_mandate", actor=call.actor, **call.body)

    @route(
        "GET",
        "/api/v1/me/mandates",
        query=identity.MyMandatesQuery,
        response=identity.MandatePage,
        auth=SIGNED_IN,
        tags=("identity",),
        summary="Mandates I granted, or (role=agent) those granted to me: whom I may act for",
    )
    def my_mandates(self, call):
        return self._call(call, "identity", "list_my_mandates", actor=call.actor, **call.query)

    @route(
        "DELETE",
        "/api/v1/me/mandates/<mandate_id>",
        path=identity.RevokeMyMandate,
        status=204,
        auth=SIGNED_IN,
        tags=("identity",),
        summary="Revoke a mandate I granted",
    )
    def revoke_my_mandate(self, call, mandate_id):
        self._call(call, "identity", "revoke_my_mandate", actor=call.actor, mandate_id=mandate_id)

    # ---------------------------------------------------------------- catalog

    @route(
        "GET",
        "/api/v1/regions",
        response=catalog.RegionList,
        tags=("catalog",),
        summary="Administrative regions (province, cities, counties)",
        **CACHED,
    )
    def regions(self, call):
        return self._cached(call, cache_key("regions"), "catalog", "list_regions")

    @route(
        "GET",
        "/api/v1/departments",
        query=catalog.DepartmentQuery,
        response=catalog.DepartmentList,
        tags=("catalog",),
        summary="Departments, optionally of one region",
        **CACHED,
    )
    def departments(self, call):
        key = cache_key("departments", **call.query)
        return self._cached(call, key, "catalog", "list_departments", **call.query)

    @route(
        "GET",
        "/api/v1/items",
        query=catalog.ItemSearchQuery,
        response=catalog.ItemSummaryPage,
        tags=("catalog",),
        summary="Search published service items",
        public_read=True,
        description=(
            "Answered from the gateway's own index of the catalogue, kept by catalog's"
            " item_published and item_retired events (a change shows within a second or"
            " so) and loaded again every CATALOG_INDEX_RESYNC_SECONDS (default 600), which"
            " bounds how long a process that missed an event stays stale. While the index"
            " loads (just after start), catalog answers with the same filters, ordering"
            " name matches before description matches, without pinyin initials or common"
            " words, and the answer may be cached up to CATALOG_CACHE_SECONDS; catalog"
            " also answers a region or department the index does not know yet."
        ),
        **CACHED,
    )
    def search_items(self, call):
        index = self.search.index
        if index.loaded and index.knows(**call.query):
            # The same question of the same index has the same answer.
            key = cache_key("search", str(index.version), **call.query)
            return self.search.answers.get(key, lambda: index.search(**call.query))
        key = cache_key("items", **call.query)
        return self._cached(call, key, "catalog", "search_items", **call.query)

    @route(
        "GET",
        "/api/v1/items/<item_id>",
        path=catalog.ItemIdRequest,
        response=catalog.ItemGuide,
        tags=("catalog",),
        summary="The full service guide of an item",
        public_read=True,
        description=(
            "A draft or retired item is answered only to staff of its department and"
            " the operator (send the bearer token); 404 to everyone else."
        ),
        **CACHED,
    )
    def get_item(self, call, item_id):
        return self._guide(call, item_id, self._viewer(call))

    def _guide(self, call: Call, item_id: str, actor: dict | None = None) -> dict:
        """An item's guide: a published one from the cache (loaded as the public
        sees it); a draft or retired one only for ``actor`` when it is staff of
        the item's department or the operator, asked each time."""
        try:
            return self._cached(
                call, cache_key("item", item_id), "catalog", "get_item", item_id=item_id, actor=None
            )
        except NotFound:
            if actor is None:
                raise
        return self._call(call, "catalog", "get_item", item_id=item_id, actor=actor)

    def _viewer(self, call: Call) -> dict | None:
        """Who asks a public route: the bearer token's actor when one is sent."""
        if call.actor is None and call.request.headers.get("Authorization"):
            call.claims, call.actor = self.keys.authenticate(call.request)
        return call.actor

    @route(
        "POST",
        "/api/v1/items",
        request=catalog.CreateItemBody,
        response=catalog.ItemGuide,
        status=201,
        auth=ITEM_ADMIN,
        tags=("catalog",),
        summary="Create a draft item (department admin)",
        errors=(409,),
    )
    def create_item(self, call):
        return self._call(call, "catalog", "create_item", actor=call.actor, **call.body)

    @route(
        "PUT",
        "/api/v1/items/<item_id>",
        path=catalog.UpdateItem,
        request=catalog.UpdateItemBody,
        response=catalog.ItemGuide,
        auth=ITEM_ADMIN,
        tags=("catalog",),
        summary="Change guide fields of an item (department admin); give only those that change",
        errors=(409,),
    )
    def update_item(self, call, item_id):
        return self._call(
            call, "catalog", "update_item", actor=call.actor, item_id=item_id, **call.body
        )

    @route(
        "POST",
        "/api/v1/items/<item_id>/publish",
        path=catalog.ItemTransition,
        request=catalog.ItemTransitionBody,
        response=catalog.ItemGuide,
        auth=ITEM_ADMIN,
        tags=("catalog",),
        summary="Publish an item (department admin)",
        errors=(409,),
    )
    def publish_item(self, call, item_id):
        return self._call(call, "catalog", "publish_item", actor=call.actor, item_id=item_id)

    @route(
        "POST",
        "/api/v1/items/<item_id>/retire",
        path=catalog.ItemTransition,
        request=catalog.ItemTransitionBody,
        response=catalog.ItemGuide,
        auth=ITEM_ADMIN,
        tags=("catalog",),
        summary="Retire a published item (department admin)",
        errors=(409,),
    )
    def retire_item(self, call, item_id):
        return self._call(call, "catalog", "retire_item", actor=call.actor, item_id=item_id)

    @route(
        "POST",
        "/api/v1/catalogue/basic",
        request=catalog.BasicItemBody,
        response=catalog.BasicItem,
        status=201,
        auth=ITEM_ADMIN,
        tags=("catalog",),
        summary="Publish a basic item (operator, or admin of a province-level department)",
        errors=(409,),
    )
    def create_basic_item(self, call):
        return self._call(call, "catalog", "create_basic_item", actor=call.actor, **call.body)

    @route(
        "GET",
        "/api/v1/catalogue/basic",
        query=catalog.BasicItemQuery,
        response=catalog.BasicItemPage,
        tags=("catalog",),
        summary="Basic items (三级四同), in basic code order",
        **CACHED,
    )
    def basic_items(self, call):
        key = cache_key("basic", **call.query)
        return self._cached(call, key, "catalog", "list_basic_items", **call.query)

    @route(
        "GET",
        "/api/v1/catalogue/basic/<basic_code>",
        path=catalog.BasicCodeRequest,
        response=catalog.BasicItem,
        tags=("catalog",),
        summary="A basic item",
        **CACHED,
    )
    def get_basic_item(self, call, basic_code):
        key = cache_key("basic", basic_code)
        return self._cached(call, key, "catalog", "get_basic_item", basic_code=basic_code)

    @route(
        "PUT",
        "/api/v1/catalogue/basic/<basic_code>",
        path=catalog.UpdateBasicItem,
        request=catalog.UpdateBasicItemBody,
        response=catalog.BasicItem,
        auth=ITEM_ADMIN,
        tags=("catalog",),
        summary="Change a basic item; every item derived from it follows",
        errors=(409,),
    )
    def update_basic_item(self, call, basic_code):
        return self._call(
            call,
            "catalog",
            "update_basic_item",
            actor=call.actor,
            basic_code=basic_code,
            **call.body,
        )

    @route(
        "GET",
        "/api/v1/stores",
        query=catalog.StoreQuery,
        response=catalog.StorePage,
        tags=("catalog",),
        summary="Flagship stores (departments' and cities') with their rating summaries",
        public_read=True,
        **CACHED,
    )
    def stores(self, call):
        # "kind" is a filter here, not the cache's kind of read.
        key = cache_key("stores", None, query=tuple(sorted(call.query.items())))
        return self._cached(call, key, "catalog", "list_stores", **call.query)

    @route(
        "GET",
        "/api/v1/stores/<store_id>",
        path=catalog.StoreIdRequest,
        response=catalog.Store,
        tags=("catalog",),
        summary="A flagship store with its rating summary",
        **CACHED,
    )
    def get_store(self, call, store_id):
        key = cache_key("store", store_id)
        return self._cached(call, key, "catalog", "get_store", store_id=store_id)

    @route(
        "GET",
        "/api/v1/stats/catalog",
        response=catalog.CatalogStats,
        tags=("catalog",),
        summary="Online rate, basic items implemented and deviating items, by level and region",
        description=(
            "Read from the counters catalog keeps from its own item_published, item_retired"
            " and basic_item_published events; the gateway keeps the answer up to"
            " FIGURES_CACHE_SECONDS (default 5)."
        ),
    )
    def catalog_stats(self, call):
        # Kept by catalog from its events; a few seconds old at most.
        key = cache_key("catalog_stats")
        return self.figures.get(key, lambda: self._call(call, "catalog", "catalog_stats"))

    @route(
        "POST",
        "/api/v1/zones",
        request=catalog.ZoneBody,
        response=catalog.Zone,
        status=201,
        auth=ITEM_ADMIN,
        tags=("catalog",),
        summary="Add a development zone (operator, or a dept_admin of its committee)",
        errors=(409,),
    )
    def create_zone(self, call):
        return self._call(call, "catalog", "create_zone", actor=call.actor, **call.body)

    @route(
        "GET",
        "/api/v1/zones",
        query=catalog.ZoneQuery,
        response=catalog.ZonePage,
        auth=ITEM_ADMIN,
        tags=("catalog",),
        summary="Development zones: an operator's all, a zone committee admin's own",
    )
    def list_zones(self, call):
        return self._call(call, "catalog", "list_zones", actor=call.actor, **call.query)

    @route(
        "POST",
        "/api/v1/zones/<zone_id>/assessments",
        path=catalog.RecordAssessment,
        request=catalog.AssessmentBody,
        response=catalog.Assessment,
        status=201,
        auth=ITEM_ADMIN,
        tags=("catalog",),
        summary="Record a regional assessment report of a zone (operator or the zone's admin)",
    )
    def record_assessment(self, call, zone_id):
        return self._call(
            call, "catalog", "record_assessment", actor=call.actor, zone_id=zone_id, **call.body
        )

    @route(
        "GET",
        "/api/v1/zones/<zone_id>/assessments",
        path=catalog.ListAssessments,
        query=catalog.AssessmentQuery,
        response=catalog.AssessmentPage,
        auth=ITEM_ADMIN,
        tags=("catalog",),
        summary="A zone's regional assessment reports (operator or the zone's admin)",
    )
    def list_assessments(self, call, zone_id):
        return self._call(
            call, "catalog", "list_assessments", actor=call.actor, zone_id=zone_id, **call.query
        )

    # ---------------------------------------------------------------- workflow

    @route(
        "POST",
        "/api/v1/applications",
        request=workflow.SubmitApplicationBody,
        response=workflow.Submitted,
        status=201,
        auth=SIGNED_IN,
        tags=("workflow",),
        summary="Submit an application",
        description=(
            "Sent to the workflow instance that the item's guide names (handled_by);"
            " 503 when that instance is not one this gateway is configured for."
            " A department instance's application ids start with '<department code>.'."
        ),
        errors=(403, 404, 409, 503),
        idempotency_key=True,
    )
    def submit_application(self, call):
        key = idempotency_key(call)
        guide = self._guide(call, call.body["item_id"], call.actor)
        instance = self.workflows.for_item(guide)
        return self._call(
            call,
            instance,
            "submit_application",
            actor=call.actor,
            idempotency_key=key,
            **call.body,
        )

    @route(
        "GET",
        "/api/v1/applications",
        query=workflow.ListApplicationsQuery,
        response=workflow.WorkItemPage,
        auth=SIGNED_IN,
        tags=("workflow",),
        summary="My applications",
        description="From every workflow instance, newest first.",
    )
    def my_applications(self, call):
        workflows = self.workflows
        return workflows.merged_page(
            self._caller(call), workflows.names, "list_applications", call.query, actor=call.actor
        )

    @route(
        "GET",
        "/api/v1/applications/<application_id>",
        path=workflow.GetApplication,
        response=workflow.Application,
        auth=SIGNED_IN,
        tags=("workflow",),
        summary="An application with its timeline",
    )
    def get_application(self, call, application_id):
        instance = self.workflows.of(application_id)
        return self._call(
            call, instance, "get_application", actor=call.actor, application_id=application_id
        )

    @route(
        "GET",
        "/api/v1/applications/<application_id>/principal",
        path=workflow.GetPrincipal,
        response=workflow.PrincipalIdentity,
        auth=STAFF,
        tags=("workflow",),
        summary="The person a case was applied for, ID number in full (staff reviewing it)",
        description=(
            "For checking the person an agent applied for against the materials. Each"
            " answer with a number is recorded (GET /api/v1/admin/pii-access); the case"
            " itself shows the number masked. 403 for the agent who applied (not a"
            " reviewer); 404 when the case is not the staff member's to see or was not"
            " applied for a person."
        ),
    )
    def get_principal(self, call, application_id):
        instance = self.workflows.of(application_id)
        return self._call(
            call, instance, "get_principal", actor=call.actor, application_id=application_id
        )

    @route(
        "POST",
        "/api/v1/applications/<application_id>/withdraw",
        path=workflow.Withdraw,
        request=workflow.WithdrawBody,
        response=workflow.Application,
        auth=SIGNED_IN,
        tags=("workflow",),
        summary="Withdraw my application",
        errors=(409,),
    )
    def withdraw(self, call, application_id):
        instance = self.workflows.of(application_id)
        return self._call(
            call, instance, "withdraw", actor=call.actor, application_id=application_id
        )

    @route(
        "POST",
        "/api/v1/applications/<application_id>/supplement",
        path=workflow.Supplement,
        request=workflow.SupplementBody,
        response=workflow.Application,
        auth=SIGNED_IN,
        tags=("workflow",),
        summary="Add the materials a clerk asked for",
        errors=(409,),
    )
    def supplement(self, call, application_id):
        instance = self.workflows.of(application_id)
        return self._call(
            call,
            instance,
            "supplement",
            actor=call.actor,
            application_id=application_id,
            **call.body,
        )

    @route(
        "POST",
        "/api/v1/applications/<application_id>/redelivery",
        path=workflow.Redelivery,
        request=workflow.RedeliveryBody,
        response=workflow.Application,
        auth=SIGNED_IN,
        tags=("workflow",),
        summary="Choose what happens after a failed EMS shipment (applicant)",
        description=(
            "After a failed materials pickup: reship_materials (a new EMS pickup, from"
            " address when given) or bring_to_window; after a failed result delivery:"
            " redeliver_result (to address when given) or collect_at_window. The choices"
            " open now are in the case's available_actions."
        ),
        errors=(403, 409),
    )
    def choose_redelivery(self, call, application_id):
        instance = self.workflows.of(application_id)
        return self._call(
            call,
            instance,
            "choose_redelivery",
            actor=call.actor,
            application_id=application_id,
            **call.body,
        )

    @route(
        "POST",
        "/api/v1/applications/<application_id>/handover",
        path=workflow.HandOver,
        request=workflow.HandOverBody,
        response=workflow.Application,
        auth=CASE_WORKER,
        tags=("workflow",),
        summary="Hand the result over at the window after its delivery failed (window clerk)",
        description="The case completes.",
        errors=(403, 409),
    )
    def hand_over(self, call, application_id):
        instance = self.workflows.of(application_id)
        return self._call(
            call,
            instance,
            "hand_over",
            actor=call.actor,
            application_id=application_id,
            **call.body,
        )

    @route(
        "GET",
        "/api/v1/worklist",
        query=workflow.WorklistQuery,
        response=workflow.WorkItemPage,
        auth=STAFF,
        tags=("workflow",),
        summary="Cases of my department (staff)",
        description=(
            "The cases the department owns or has work in (a step of its own, a"
            " joint review's branch), from every workflow instance, each with the"
            " department's open task and its due date. signal keeps the cases whose"
            " open task is green, yellow or red; sort=due orders by that due date."
        ),
    )
    def worklist(self, call):
        targets = self.workflows.for_worklist(call.actor.get("department_code"))
        order = soonest_due_first if call.query.get("sort") == "due" else None
        return self.workflows.merged_page(
            self._caller(call), targets, "worklist", call.query, order=order, actor=call.actor
        )

    @route(
        "GET",
        "/api/v1/escalations",
        query=workflow.ListEscalationsQuery,
        response=workflow.EscalationPage,
        auth=ITEM_ADMIN,
        tags=("workflow",),
        summary="Open escalations of late work (department admin, operator)",
        description=(
            "督办: a task red a working day after its due date (with the clock running)"
            " goes to its department's admin, and still open ESCALATE_TO_OPERATOR_DAYS"
            " working days later to the operator. A dept_admin sees the open escalations"
            " of their department at both levels, the operator those at level operator;"
            " level narrows to one level (the operator's level=dept_admin shows the"
            " others). From every workflow instance, newest first; an escalation leaves"
            " the list when its task is done or its case ends."
        ),
    )
    def escalations(self, call):
        targets = self.workflows.for_worklist(call.actor.get("department_code"))
        return self.workflows.merged_page(
            self._caller(call),
            targets,
            "list_escalations",
            call.query,
            order=newest_raised_first,
            actor=call.actor,
        )

    @route(
        "POST",
        "/api/v1/applications/<application_id>/actions",
        path=workflow.Act,
        request=workflow.ActBody,
        response=workflow.Application,
        auth=CASE_WORKER,
        tags=("workflow",),
        summary="Act on a case (window clerk or approver)",
        errors=(409,),
    )
    def act(self, call, application_id):
        instance = self.workflows.of(application_id)
        return self._call(
            call, instance, "act", actor=call.actor, application_id=application_id, **call.body
        )

    @route(
        "GET",
        "/api/v1/licences",
        response=workflow.LicenceList,
        auth=SIGNED_IN,
        tags=("workflow",),
        summary="My electronic licences",
        description="From every workflow instance, newest first.",
    )
    def my_licences(self, call):
        return self.workflows.merged_collection(
            self._caller(call), "list_licences", "issued_at", "licence_no", actor=call.actor
        )

    @route(
        "GET",
        "/api/v1/licences/jwks.json",
        response=workflow.LicenceJwks,
        tags=("workflow",),
        summary="Public keys that sign electronic licences (every workflow instance's)",
        description=(
            "Ed25519 keys (RFC 8037: kty OKP, alg EdDSA); a licence document's"
            " signature.kid names one. Answered from the gateway's copy, at most"
            " CATALOG_CACHE_SECONDS old."
        ),
        errors=(503,),
        **CACHED,
    )
    def licence_jwks(self, call):
        return self.reads.get(
            cache_key("licence_jwks"),
            lambda: merged_jwks(
                self.workflows.each(
                    self.workflows.names,
                    lambda instance: self._call(call, instance, "licence_jwks"),
                )
            ),
        )

    @route(
        "GET",
        "/api/v1/licences/<licence_no>",
        path=workflow.GetLicence,
        response=workflow.LicenceView,
        auth=SIGNED_IN,
        tags=("workflow",),
        summary="A licence's signed document and QR payload (holder, issuing department)",
        description=(
            "For the holder (the applicant, or the party an agent applied for),"
            " staff of the issuing department and operators; 404 for anyone else."
            " The document is the canonical JSON (RFC 8785) of `licence` signed with"
            " Ed25519 (`signature`: alg EdDSA, kid in /api/v1/licences/jwks.json)."
            " qr_payload is the public verify URL of the number."
        ),
    )
    def get_licence(self, call, licence_no):
        return self.workflows.first_answer(
            self._licence_instances(call, licence_no),
            lambda instance: self._call(
                call, instance, "get_licence", actor=call.actor, licence_no=licence_no
            ),
        )

    @route(
        "GET",
        "/api/v1/licences/<licence_no>/verify",
        path=workflow.VerifyLicence,
        response=workflow.LicenceCheck,
        tags=("workflow",),
        summary="Check that a licence is genuine and valid now (public; rate-limited)",
        public_read=True,
        description=(
            "Its signature, the issuer's register, its validity period and revocation;"
            " `failed` names each check that did not pass. 404 for a number no"
            " instance issued. LICENCE_VERIFY_RATE_* (and"
            " PUBLIC_RATE_*) requests per client."
        ),
        errors=(429,),
    )
    def verify_licence(self, call, licence_no):
        self.licence_checks.check(call.request)
        return self.workflows.first_answer(
            self._licence_instances(call, licence_no),
            lambda instance: self._call(call, instance, "verify_licence", licence_no=licence_no),
        )

    @route(
        "POST",
        "/api/v1/licences/verify",
        request=workflow.VerifyDocumentBody,
        response=workflow.LicenceCheck,
        tags=("workflow",),
        summary="Check a licence document someone presents (public; rate-limited)",
        public_read=True,
        description=(
            "200 with valid false and the checks that failed for a document that"
            " does not hold (altered: signature invalid; never issued: register"
            " unknown; expired; revoked); 422 for one that is not a licence document"
            " at all. LICENCE_VERIFY_RATE_* (and"
            " PUBLIC_RATE_*) requests per client."
        ),
        errors=(429,),
    )
    def verify_licence_document(self, call):
        self.licence_checks.check(call.request)
        document = call.body["document"]
        try:
            targets = self._licence_instances(call, document["licence"]["licence_no"])
        except NotFound:  # no such number anywhere: the shared register says so
            targets = [instances.SHARED_WORKFLOW]
        answer = None
        for instance in targets:
            found = self._call(call, instance, "verify_licence_document", document=document)
            if found["checks"]["register"] != "unknown":
                return found
            answer = answer or found
        return answer

    @route(
        "POST",
        "/api/v1/licences/<licence_no>/revoke",
        path=workflow.RevokeLicence,
        request=workflow.RevokeLicenceBody,
        response=workflow.LicenceCheck,
        auth=DEPT_ADMIN,
        tags=("workflow",),
        summary="Revoke a licence (a dept_admin of its issuing department)",
        description="It fails verification from then on (licence_revoked); answers its check.",
        errors=(409,),
    )
    def revoke_licence(self, call, licence_no):
        return self.workflows.first_answer(
            self._licence_instances(call, licence_no),
            lambda instance: self._call(
                call,
                instance,
                "revoke_licence",
                actor=call.actor,
                licence_no=licence_no,
                **call.body,
            ),
        )

    def _licence_instances(self, call: Call, licence_no: str) -> list[str]:
        """The instance that issued ``licence_no`` (by its issuer's department,
        from the cached catalogue), or every instance for an issuer unknown here."""
        if instances.licence_issuer(licence_no) is None:  # an old number: its prefix says
            return self.workflows.for_licence(licence_no, [])
        departments = self._cached(call, cache_key("departments"), "catalog", "list_departments")
        return self.workflows.for_licence(licence_no, departments["items"])

    @route(
        "POST",
        "/api/v1/applications/<application_id>/extension",
        path=workflow.RequestExtension,
        request=workflow.ExtensionBody,
        response=workflow.Application,
        auth=STAFF,
        tags=("workflow",),
        summary="Ask for more working days on a case (延期; an approver of its department)",
        description="At most the item's limit in all; the department admin decides.",
        errors=(409,),
    )
    def request_extension(self, call, application_id):
        instance = self.workflows.of(application_id)
        return self._call(
            call,
            instance,
            "request_extension",
            actor=call.actor,
            application_id=application_id,
            **call.body,
        )

    @route(
        "POST",
        "/api/v1/applications/<application_id>/extension/decision",
        path=workflow.DecideExtension,
        request=workflow.ExtensionDecisionBody,
        response=workflow.Application,
        auth=STAFF,
        tags=("workflow",),
        summary="Approve or refuse the waiting extension (the department admin)",
        description="Approved, the promised and legal due dates and every open step's move.",
        errors=(409,),
    )
    def decide_extension(self, call, application_id):
        instance = self.workflows.of(application_id)
        return self._call(
            call,
            instance,
            "decide_extension",
            actor=call.actor,
            application_id=application_id,
            **call.body,
        )

    @route(
        "POST",
        "/api/v1/applications/<application_id>/suspensions",
        path=workflow.Suspend,
        request=workflow.SuspensionBody,
        response=workflow.SuspensionStarted,
        status=201,
        auth=STAFF,
        tags=("workflow",),
        summary="Begin a special procedure (特别程序): the clock stops",
        description="hearing, inspection, testing, expert_review, tender or other.",
        errors=(409,),
    )
    def suspend(self, call, application_id):
        instance = self.workflows.of(application_id)
        return self._call(
            call, instance, "suspend", actor=call.actor, application_id=application_id, **call.body
        )

    @route(
        "POST",
        "/api/v1/applications/<application_id>/suspensions/<suspension_id>/end",
        path=workflow.EndSuspension,
        request=workflow.EndSuspensionBody,
        response=workflow.Application,
        auth=STAFF,
        tags=("workflow",),
        summary="End a special procedure with its result: the clock runs again",
        errors=(409,),
    )
    def end_suspension(self, call, application_id, suspension_id):
        instance = self.workflows.of(application_id)
        return self._call(
            call,
            instance,
            "end_suspension",
            actor=call.actor,
            application_id=application_id,
            suspension_id=suspension_id,
            **call.body,
        )

    @route(
        "PUT",
        "/api/v1/items/<item_id>/process",
        path=workflow.PublishProcess,
        request=workflow.ProcessBody,
        response=workflow.ProcessVersion,
        status=201,
        auth=ITEM_ADMIN,
        tags=("workflow",),
        summary="Publish a new version of an item's process (department admin or operator)",
        description=(
            "Checked first: each problem is named by its field (definition.steps.1.join)."
            " New applications run it; open cases keep the version they started on."
        ),
        errors=(409, 503),
    )
    def publish_process(self, call, item_id):
        instance = self._item_instance(call, item_id)
        return self._call(
            call, instance, "publish_process", actor=call.actor, item_id=item_id, **call.body
        )

    @route(
        "GET",
        "/api/v1/items/<item_id>/process",
        path=workflow.GetProcess,
        response=workflow.ProcessVersion,
        tags=("workflow",),
        summary="The current process of an item (version 0: the default until one is published)",
        **CACHED,
    )
    def current_process(self, call, item_id):
        return self._process(call, item_id, None)

    @route(
        "GET",
        "/api/v1/items/<item_id>/process/<version>",
        path=workflow.GetProcess,
        response=workflow.ProcessVersion,
        tags=("workflow",),
        summary="One version of an item's process",
        **CACHED,
    )
    def process_version(self, call, item_id, version):
        return self._process(call, item_id, int(version))

    def _process(self, call: Call, item_id: str, version: int | None):
        instance = self._item_instance(call, item_id)
        arguments = (
            {"item_id": item_id} if version is None else {"item_id": item_id, "version": version}
        )
        key = cache_key("process", item_id, version=version)
        return self._cached(call, key, instance, "get_process", **arguments)

    def _item_instance(self, call: Call, item_id: str) -> str:
        """The workflow instance that handles the item (its guide's handled_by)."""
        return self.workflows.for_item(self._guide(call, item_id, self._viewer(call)))

    @route(
        "PUT",
        "/api/v1/admin/calendar/<year>",
        path=workflow.YearRequest,
        request=workflow.CalendarYearBody,
        response=workflow.CalendarYear,
        auth=OPERATOR,
        tags=("workflow",),
        summary="Load or correct a year's working calendar (operators)",
        description=(
            "Its public holidays and make-up working days (weekend days worked), stored"
            " by every workflow instance; due dates already set stay. Until a year is"
            " loaded its due dates count weekdays and are marked calendar_provisional."
            " Repeat the call when an instance did not answer (503/504)."
        ),
    )
    def put_calendar_year(self, call, year):
        answers = self.workflows.each(
            self.workflows.names,
            lambda instance: self._call(
                call, instance, "put_calendar_year", actor=call.actor, year=year, **call.body
            ),
        )
        return answers[0]

    @route(
        "GET",
        "/api/v1/admin/calendar/<year>",
        path=workflow.YearRequest,
        response=workflow.CalendarYear,
        auth=OPERATOR,
        tags=("workflow",),
        summary="A year's working calendar as loaded (operators)",
    )
    def get_calendar_year(self, call, year):
        return self._call(call, instances.SHARED_WORKFLOW, "get_calendar_year", year=year)

    # ---------------------------------------------------------------- courier

    @route(
        "GET",
        "/api/v1/shipments",
        query=courier.ShipmentQuery,
        response=courier.ShipmentList,
        auth=SIGNED_IN,
        tags=("courier",),
        summary="EMS shipments of an application",
        errors=(404,),
    )
    def shipments(self, call):
        return self._call(call, "courier", "list_shipments", actor=call.actor, **call.query)

    @route(
        "GET",
        "/api/v1/shipments/<tracking_no>",
        path=courier.GetShipment,
        response=courier.Shipment,
        auth=SIGNED_IN,
        tags=("courier",),
        summary="An EMS shipment with its tracking events",
    )
    def get_shipment(self, call, tracking_no):
        return self._call(
            call, "courier", "get_shipment", actor=call.actor, tracking_no=tracking_no
        )

    @route(
        "POST",
        "/api/v1/webhooks/ems",
        request=courier.EmsScanBody,
        response=s.Status,
        verify_body=verify_ems_request,
        tags=("courier",),
        summary="EMS status callback (HMAC-signed: X-EMS-Timestamp, X-EMS-Signature)",
        errors=(401, 404, 409),
    )
    def ems_webhook(self, call):
        self._call(call, "courier", "record_ems_event", **call.body)
        return {"status": "ok"}

    @route(
        "POST",
        "/api/v1/webhooks/payment",
        request=workflow.PaymentNoticeBody,
        response=workflow.PaymentNoticeAnswer,
        verify_body=verify_payment_request,
        tags=("workflow",),
        summary="Payment platform callback (HMAC-signed: X-Payment-Timestamp, X-Payment-Signature)",
        description=(
            "An order of a case's fees was paid: sent to the workflow instance the"
            " reference (the application id) names; repeats answer status repeated."
        ),
        errors=(401, 404, 409),
    )
    def payment_webhook(self, call):
        body = call.body
        instance = self.workflows.of(body["reference"])
        return self._call(call, instance, "record_payment", **body)

    # ---------------------------------------------------------------- ratings

    @route(
        "POST",
        "/api/v1/applications/<application_id>/review",
        path=ratings.SubmitReview,
        request=ratings.SubmitReviewBody,
        response=ratings.ReviewId,
        status=201,
        auth=SIGNED_IN,
        tags=("ratings",),
        summary="Rate an ended case once (一事一评): grade 1..5, sub-grades, channel",
        description=(
            "The applicant (or whom the case was for) rates a completed, denied or"
            " rejected case once, within REVIEW_WINDOW_DAYS of its end. Grades 1 and 2"
            " open a rectification for the department that handled the case."
        ),
        errors=(403, 409),
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
        "POST",
        "/api/v1/visits",
        request=ratings.RecordVisitBody,
        response=ratings.VisitRecorded,
        status=201,
        auth=WINDOW_CLERK,
        tags=("ratings",),
        summary="Record a window visit to be rated once (一次一评; window clerk)",
        description=(
            "Answers the visit's one-time rating token for the window's terminal; with"
            " a phone the rating link is also sent by SMS. The token expires after"
            " VISIT_TOKEN_DAYS."
        ),
        errors=(404,),
    )
    def record_visit(self, call):
        return self._call(call, "ratings", "record_visit", actor=call.actor, **call.body)

    @route(
        "POST",
        "/api/v1/visits/review",
        request=ratings.ReviewVisitBody,
        response=ratings.ReviewId,
        status=201,
        rate_limited=True,
        tags=("ratings",),
        summary="Rate a window visit with its one-time token (terminal or SMS link)",
        errors=(404, 409),
    )
    def review_visit(self, call):
        return self._call(call, "ratings", "review_visit", **call.body)

    @route(
        "GET",
        "/api/v1/reviews",
        query=ratings.ListReviewsQuery,
        response=ratings.ReviewPage,
        auth=RATINGS_STAFF,
        tags=("ratings",),
        summary="Reviews with their replies and appeals (staff: their department; operator)",
    )
    def reviews(self, call):
        return self._call(call, "ratings", "list_reviews", actor=call.actor, **call.query)

    @route(
        "POST",
        "/api/v1/reviews/<review_id>/reply",
        path=ratings.Reply,
        request=ratings.ReplyBody,
        response=ratings.ReviewView,
        auth=RATINGS_STAFF,
        tags=("ratings",),
        summary="The department's public reply, shown under the review (once)",
        errors=(409,),
    )
    def reply_to_review(self, call, review_id):
        return self._call(
            call, "ratings", "reply_to_review", actor=call.actor, review_id=review_id, **call.body
        )

    @route(
        "POST",
        "/api/v1/reviews/<review_id>/appeal",
        path=ratings.FileAppeal,
        request=ratings.AppealBody,
        response=ratings.AppealId,
        status=201,
        auth=DEPT_ADMIN,
        tags=("ratings",),
        summary="Appeal a malicious or mistaken review (申诉; the department admin)",
        errors=(409,),
    )
    def appeal(self, call, review_id):
        return self._call(
            call, "ratings", "file_appeal", actor=call.actor, review_id=review_id, **call.body
        )

    @route(
        "GET",
        "/api/v1/appeals",
        query=ratings.ListAppealsQuery,
        response=ratings.AppealPage,
        auth=ITEM_ADMIN,
        tags=("ratings",),
        summary="Appeals against reviews (operator: all; department admin: their own)",
    )
    def appeals(self, call):
        return self._call(call, "ratings", "list_appeals", actor=call.actor, **call.query)

    @route(
        "POST",
        "/api/v1/appeals/<appeal_id>/decision",
        path=ratings.DecideAppeal,
        request=ratings.AppealDecisionBody,
        response=ratings.Appeal,
        auth=OPERATOR,
        tags=("ratings",),
        summary="Decide an appeal (复核): upheld, the review leaves every rate",
        errors=(409,),
    )
    def decide_appeal(self, call, appeal_id):
        return self._call(
            call, "ratings", "decide_appeal", actor=call.actor, appeal_id=appeal_id, **call.body
        )

    @route(
        "GET",
        "/api/v1/stores/<store_id>/reviews",
        path=ratings.ListStoreReviews,
        query=ratings.ListStoreReviewsQuery,
        response=ratings.StoreReviews,
        tags=("ratings",),
        summary="Reviews of a flagship store",
        **CACHED,
    )
    def store_reviews(self, call, store_id):
        key = cache_key("reviews", store_id, **call.query)
        return self._cached(
            call, key, "ratings", "list_store_reviews", store_id=store_id, **call.query
        )

    @route(
        "GET",
        "/api/v1/stats/ratings",
        query=ratings.StatsQuery,
        response=ratings.RatingStats,
        tags=("ratings",),
        summary="Praise rates by department and region",
    )
    def rating_stats(self, call):
        query = ratings.StatsQuery().dump(call.query)
        key = cache_key("rating_stats", None, **query)
        return self._stats(call, key, "stats", **query)

    @route(
        "GET",
        "/api/v1/stats/cases",
        query=ratings.CaseStatsQuery,
        response=ratings.CaseStats,
        tags=("ratings",),
        summary="Live case data: submitted, accepted, completed (on time), overdue, by mode",
        description=(
            "Counts of a read model fed by workflow's and courier's events, by China day;"
            " each filter narrows them. Answered from the gateway's short-lived copy,"
            " dropped whenever the figures change."
        ),
    )
    def case_stats(self, call):
        query = ratings.CaseStatsQuery().dump(call.query)
        key = cache_key("case_stats", None, **query)
        return self._stats(call, key, "case_stats", **query)

    @route(
        "GET",
        "/api/v1/stats/live",
        tags=("ratings",),
        summary="The province's case counts as Server-Sent Events, as cases move",
        description=(
            "A text/event-stream for wall dashboards: an event `case_stats` with"
            " {day, today, all_time} at once and whenever the counts change,"
            " `: keepalive` comments while idle. A client resuming with Last-Event-ID"
            " is not sent the snapshot it already has."
        ),
        content_type="text/event-stream",
        errors=(503,),
    )
    def live_stats(self, call):
        self.live.prime(lambda: self._call(call, "ratings", "live_case_stats"))
        return event_stream_response(self.live, call.request)

    @route(
        "GET",
        "/api/v1/rectifications",
        query=ratings.ListRectificationsQuery,
        response=ratings.RectificationPage,
        auth=RATINGS_STAFF,
        tags=("ratings",),
        summary="Rectifications of bad reviews (staff: their department; operator: all)",
    )
    def rectifications(self, call):
        return self._call(call, "ratings", "list_rectifications", actor=call.actor, **call.query)

    @route(
        "GET",
        "/api/v1/rectifications/<rectification_id>",
        path=ratings.GetRectification,
        response=ratings.Rectification,
        auth=RATINGS_STAFF,
        tags=("ratings",),
        summary="A rectification with its verification, fix, return visits and escalations",
    )
    def rectification(self, call, rectification_id):
        return self._call(
            call,
            "ratings",
            "get_rectification",
            actor=call.actor,
            rectification_id=rectification_id,
        )

    @route(
        "POST",
        "/api/v1/rectifications/<rectification_id>/verify",
        path=ratings.Verify,
        request=ratings.VerifyBody,
        response=ratings.Rectification,
        auth=RATINGS_STAFF,
        tags=("ratings",),
        summary="Verify a bad review within a working day (核实): immediate, deadline or explain",
        errors=(409,),
    )
    def verify_rectification(self, call, rectification_id):
        return self._call(
            call,
            "ratings",
            "verify_rectification",
            actor=call.actor,
            rectification_id=rectification_id,
            **call.body,
        )

    @route(
        "POST",
        "/api/v1/rectifications/<rectification_id>/resolve",
        path=ratings.Resolve,
        request=ratings.ResolveBody,
        response=ratings.Rectification,
        auth=RATINGS_STAFF,
        tags=("ratings",),
        summary="Record how a bad review was rectified (staff)",
        errors=(409,),
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

    @route(
        "POST",
        "/api/v1/rectifications/<rectification_id>/return-visit",
        path=ratings.ReturnVisit,
        request=ratings.ReturnVisitBody,
        response=ratings.Rectification,
        auth=RATINGS_STAFF,
        tags=("ratings",),
        summary="Record the call back to the citizen (回访); unsatisfied reopens it once",
        errors=(409,),
    )
    def return_visit(self, call, rectification_id):
        return self._call(
            call,
            "ratings",
            "record_return_visit",
            actor=call.actor,
            rectification_id=rectification_id,
            **call.body,
        )

    # ---------------------------------------------------------------- cache freshness

    @_broadcast("catalog", "item_published")
    def on_item_published(self, body):
        apply_event(self.reads, "item_published", body)
        self.search.apply("item_published", payload_of(body))

    @_broadcast("catalog", "item_retired")
    def on_item_retired(self, body):
        apply_event(self.reads, "item_retired", body)
        self.search.apply("item_retired", payload_of(body))

    @_broadcast("catalog", "basic_item_published")
    def on_basic_item_published(self, body):
        apply_event(self.reads, "basic_item_published", body)

    @_broadcast("workflow", "process_published")
    def on_process_published(self, body):
        apply_event(self.reads, "process_published", body)

    @_broadcast("catalog", "store_rating_updated")
    def on_store_rating_updated(self, body):
        apply_event(self.reads, "store_rating_updated", body)

    @_broadcast("ratings", "review_submitted")
    def on_review_submitted(self, body):
        apply_event(self.reads, "review_submitted", body)

    @_broadcast("ratings", "review_replied")
    def on_review_replied(self, body):
        apply_event(self.reads, "review_replied", body)

    @_broadcast("ratings", "store_rating_changed")
    def on_store_rating_changed(self, body):
        self.figures.invalidate("rating_stats")
        apply_event(self.reads, "store_rating_changed", body)

    @_broadcast("ratings", "case_stats_changed")
    def on_case_stats_changed(self, body):
        self.figures.invalidate("case_stats")
        apply_case_stats_changed(self.live, body)

    # ---------------------------------------------------------------- sessions

    @_broadcast("identity", "session_revoked")
    def on_session_revoked(self, body):
        apply_session_revoked(self.keys.revoked_sessions, body)

    @_broadcast("identity", "account_locked")
    def on_account_locked(self, body):
        apply_account_locked(self.keys.locked_accounts, body)

    @_broadcast("identity", "account_unlocked")
    def on_account_unlocked(self, body):
        apply_account_unlocked(self.keys.locked_accounts, body)

    # ---------------------------------------------------------------- operations

    @route("GET", "/healthz", response=s.Health, tags=("ops",), summary="The process is alive")
    def healthz(self, call):
        return {"status": "ok", "service": self.name}

    @route(
        "GET",
        "/readyz",
        response=s.Readiness,
        tags=("ops",),
        summary=(
            "Ready for traffic: signing keys, ended sessions and locked accounts loaded,"
            " and the broker answers"
        ),
        answers={503: s.Readiness},
    )
    def readyz(self, call):
        checks = self.keys.checks()
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
