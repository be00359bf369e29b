"""The catalog service's wire contract: its RPC requests and responses, and the
payloads of the events it publishes on ``catalog.events`` (conventions:
``services.common.schemas``).

The gateway's routes take their query strings, bodies and answers from here, and
forward each RPC answer untouched, so the HTTP API and the RPC agree by
construction. A ``...Body`` schema is exactly the route's JSON body, a
``...Query`` schema its query string; the RPC request adds the ``actor`` and the
path values. The schemas check the shape of every field; the domain checks the
rules again (a guide complete enough to publish, unknown departments, repeated
modes) and names the field it refuses.
"""

from marshmallow import Schema, ValidationError, fields, validate

from services.catalog.domain.model import LEVELS, MODES, STATUSES
from services.common.instances import MAX_CODE_LENGTH, SHARED_WORKFLOW
from services.common.schemas import (
    PATH_ID_MAX,
    ActorSchema,
    Boolean,
    FullMatch,
    PageQuery,
    collection_of,
    page_of,
)
from services.ratings.contract import Rating  # a store shows the ratings summary

MAX_DAYS = 365
MAX_COPIES = 99


# --- fields -----------------------------------------------------------------


def _no_repeats(values) -> None:
    if len(set(values)) != len(values):
        raise ValidationError("must not repeat a value")


def _unique_list(inner: fields.Field, metadata: dict | None = None) -> fields.List:
    return fields.List(
        inner, validate=_no_repeats, metadata={**(metadata or {}), "uniqueItems": True}
    )


def _text(minimum: int, maximum: int, **kwargs) -> fields.String:
    length = validate.Length(min=minimum or None, max=maximum)
    return fields.String(validate=length, **kwargs)


def _code(maximum: int, **kwargs) -> fields.String:
    """A region or department code filter: given and non-empty, or not given."""
    return _text(1, maximum, **kwargs)


def _path_id(**kwargs) -> fields.String:
    return _text(1, PATH_ID_MAX, required=True, **kwargs)


HANDLED_BY = FullMatch(
    rf"^{SHARED_WORKFLOW}(-[a-z0-9][a-z0-9-]{{0,{MAX_CODE_LENGTH - 1}}})?$",
    error='must be "workflow" or "workflow-<department code>"',
)
ITEM_ID_EXAMPLE = "5d1f3c4e2b7a4f0e9c8d7b6a5f4e3d2c"


# --- requests ---------------------------------------------------------------


class DepartmentQuery(Schema):
    """``GET /departments``: every department, or those seated in ``region``."""

    region = _code(12, metadata={"example": "320100"})


class ItemSearchQuery(PageQuery):
    """``GET /items``: published items matching every filter given."""

    q = fields.String(
        validate=validate.Length(max=100),
        metadata={
            "description": "keyword in the name, English name, code or description,"
            " ignoring case; empty or blank: no keyword",
            "example": "食品",
        },
    )
    region = _code(
        12,
        metadata={
            "description": "region the item sits in (a city does not include its counties)",
            "example": "320100",
        },
    )
    department = _code(64, metadata={"example": "js-amr"})
    level = fields.String(validate=validate.OneOf(LEVELS))
    mode = fields.String(validate=validate.OneOf(MODES))


class ItemIdRequest(Schema):
    item_id = _path_id(metadata={"example": ITEM_ID_EXAMPLE})


class StoreIdRequest(Schema):
    store_id = _path_id(metadata={"example": "store-js-amr"})


class MaterialBody(Schema):
    """One document the applicant hands in."""

    name = _text(1, 200, required=True, metadata={"example": "食品生产许可申请书"})
    copies = fields.Integer(
        strict=True, load_default=1, validate=validate.Range(min=1, max=MAX_COPIES)
    )
    original = Boolean(load_default=False)
    note = _text(1, 500, metadata={"description": "leave out for none"})


class UpdateItemBody(Schema):
    """``PUT /items/{item_id}``: the guide fields that change, and only those."""

    name = _text(1, 200)
    name_en = _text(0, 300)
    modes = _unique_list(fields.String(validate=validate.OneOf(MODES)))
    promised_days = fields.Integer(
        strict=True,
        validate=validate.Range(min=0, max=MAX_DAYS),
        metadata={"description": "working days; 1..statutory_days to publish"},
    )
    statutory_days = fields.Integer(
        strict=True,
        validate=validate.Range(min=0, max=MAX_DAYS),
        metadata={"description": "working days; at least 1 to publish"},
    )
    description = _text(0, 4000)
    conditions = fields.List(_text(1, 500))
    materials = fields.List(fields.Nested(MaterialBody))
    fees = _text(0, 200)
    legal_basis = fields.List(_text(1, 500))
    joint_departments = _unique_list(
        _text(1, 64),
        metadata={"description": "other departments that review each application"},
    )
    handled_by = fields.String(
        validate=HANDLED_BY,
        metadata={"description": "the workflow instance that handles it", "example": "workflow"},
    )


class CreateItemBody(UpdateItemBody):
    """``POST /items``: a draft item. ``region_code`` and ``level`` default to the
    department's; its store and window are always the department's."""

    code = _text(1, 64, required=True, metadata={"example": "320000-JSSCJG-900"})
    name = _text(1, 200, required=True)
    department_code = _text(1, 64, required=True, metadata={"example": "js-amr"})
    region_code = _text(1, 12, metadata={"example": "320000"})
    level = fields.String(validate=validate.OneOf(LEVELS))


class CreateItem(CreateItemBody):
    actor = fields.Nested(ActorSchema, required=True)


class UpdateItem(UpdateItemBody):
    actor = fields.Nested(ActorSchema, required=True)
    item_id = _path_id()


class ItemTransitionBody(Schema):
    """No body (or ``{}``): publishing or retiring takes nothing but the item."""


class ItemTransition(ItemTransitionBody):
    actor = fields.Nested(ActorSchema, required=True)
    item_id = _path_id()


PublishItemBody = RetireItemBody = ItemTransitionBody
PublishItem = RetireItem = ItemTransition


# --- responses --------------------------------------------------------------


class Region(Schema):
    """An administrative division (GB/T 2260 code)."""

    code = fields.String(required=True, metadata={"example": "320100"})
    name = fields.String(required=True, metadata={"example": "南京市"})
    level = fields.String(required=True, validate=validate.OneOf(LEVELS))
    parent_code = fields.String(required=True, allow_none=True, metadata={"example": "320000"})


class Department(Schema):
    code = fields.String(required=True, metadata={"example": "js-amr"})
    name = fields.String(required=True)
    region_code = fields.String(required=True)
    level = fields.String(required=True, validate=validate.OneOf(LEVELS))
    store_id = fields.String(required=True, metadata={"example": "store-js-amr"})


class ItemSummary(Schema):
    item_id = fields.String(required=True, metadata={"example": ITEM_ID_EXAMPLE})
    code = fields.String(required=True, metadata={"example": "320000-JSSCJG-001"})
    name = fields.String(required=True)
    name_en = fields.String(required=True)
    department_code = fields.String(required=True)
    department_name = fields.String(required=True)
    region_code = fields.String(required=True)
    level = fields.String(required=True, validate=validate.OneOf(LEVELS))
    modes = fields.List(fields.String(validate=validate.OneOf(MODES)), required=True)
    promised_days = fields.Integer(required=True, metadata={"description": "working days"})
    status = fields.String(required=True, validate=validate.OneOf(STATUSES))


class Material(Schema):
    name = fields.String(required=True)
    copies = fields.Integer(required=True, validate=validate.Range(min=1))
    original = fields.Boolean(required=True)
    note = fields.String(required=True, metadata={"description": '"" for none'})


class Window(Schema):
    """The counter that receives applicants and mailed materials."""

    name = fields.String(required=True)
    address = fields.String(required=True)
    phone = fields.String(required=True)
    postcode = fields.String(required=True, metadata={"example": "210019"})


class ItemGuide(ItemSummary):
    """The full service guide (办事指南) of an item, whatever its status."""

    description = fields.String(required=True)
    conditions = fields.List(fields.String(), required=True)
    materials = fields.List(fields.Nested(Material), required=True)
    fees = fields.String(required=True, metadata={"example": "免费"})
    legal_basis = fields.List(fields.String(), required=True)
    statutory_days = fields.Integer(required=True, metadata={"description": "working days"})
    joint_departments = fields.List(fields.String(), required=True)
    window = fields.Nested(Window, required=True, allow_none=True)
    handled_by = fields.String(
        required=True, validate=HANDLED_BY, metadata={"example": SHARED_WORKFLOW}
    )
    store_id = fields.String(required=True, allow_none=True, metadata={"example": "store-js-amr"})


def _share(**kwargs) -> fields.Float:
    return fields.Float(validate=validate.Range(min=0, max=1), **kwargs)


class Store(Schema):
    """A department's flagship store and its rating: ratings' published
    indicators of the store over all time, as ratings last announced them."""

    store_id = fields.String(required=True, metadata={"example": "store-js-amr"})
    name = fields.String(required=True)
    department_code = fields.String(required=True)
    region_code = fields.String(required=True)
    rating = fields.Nested(Rating, required=True)


class OnlineCounts(Schema):
    """Published items, those offering online or express, and their share."""

    published = fields.Integer(required=True)
    online = fields.Integer(required=True)
    online_rate = _share(required=True, allow_none=True, metadata={"description": "null: none"})


class CountsByLevel(Schema):
    province = fields.Nested(OnlineCounts, required=True)
    city = fields.Nested(OnlineCounts, required=True)
    county = fields.Nested(OnlineCounts, required=True)


class RegionCounts(OnlineCounts):
    """A region's own published items (a city's do not include its counties')."""

    region_code = fields.String(required=True)
    name = fields.String(required=True, allow_none=True)
    level = fields.String(required=True, allow_none=True, validate=validate.OneOf(LEVELS))


class ConsistencyItem(Schema):
    """A province-level item name and the cities that offer it."""

    name = fields.String(required=True)
    cities_with_item = fields.List(fields.String(), required=True)
    cities_missing = fields.List(fields.String(), required=True)
    coverage = _share(required=True, allow_none=True)


class Consistency(Schema):
    cities = fields.Integer(required=True)
    province_items = fields.Integer(required=True)
    consistent_items = fields.Integer(required=True)
    items = fields.List(fields.Nested(ConsistencyItem), required=True)


class CatalogStats(OnlineCounts):
    """Online rate overall, by level and by region; three-level consistency."""

    by_level = fields.Nested(CountsByLevel, required=True)
    by_region = fields.List(fields.Nested(RegionCounts), required=True)
    consistency = fields.Nested(Consistency, required=True)


RegionList = collection_of(Region)
DepartmentList = collection_of(Department)
StoreList = collection_of(Store)
ItemSummaryPage = page_of(ItemSummary)


# --- events -----------------------------------------------------------------


class ItemPublished(Schema):
    """``catalog.item_published``: an item became public or its public guide changed."""

    item_id = fields.String(required=True)
    code = fields.String(required=True)
    name = fields.String(required=True)
    department_code = fields.String(required=True)
    region_code = fields.String(required=True)
    level = fields.String(required=True, validate=validate.OneOf(LEVELS))
    store_id = fields.String(required=True, allow_none=True)
    promised_days = fields.Integer(
        required=True, strict=True, validate=validate.Range(min=1, max=MAX_DAYS)
    )
    modes = fields.List(fields.String(validate=validate.OneOf(MODES)), required=True)
    joint_departments = fields.List(fields.String(), required=True)
    window = fields.Nested(Window, required=True, allow_none=True)
    handled_by = fields.String(required=True, validate=HANDLED_BY)


class ItemRetired(Schema):
    """``catalog.item_retired``: no new applications for this item."""

    item_id = fields.String(required=True)


class StoreRatingUpdated(Schema):
    """``catalog.store_rating_updated``: a store's rating changed, as ratings
    announced it (a review counted, or excluded by an upheld appeal: the last
    one excluded leaves 0 reviews and null rates)."""

    store_id = fields.String(required=True)
    reviews = fields.Integer(required=True, strict=True, validate=validate.Range(min=0))
    praise_rate = _share(required=True, allow_none=True)
    average_grade = fields.Float(
        required=True, allow_none=True, validate=validate.Range(min=1, max=5)
    )


EVENTS = {
    "item_published": ItemPublished,
    "item_retired": ItemRetired,
    "store_rating_updated": StoreRatingUpdated,
}
