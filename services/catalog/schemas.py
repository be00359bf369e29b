"""Wire format of the catalog: RPC arguments and results, and event payloads.

Entrypoints load what comes in with these schemas (a bad value becomes
``Invalid`` naming the field) and dump what goes out. The event schemas describe
the payloads in ``catalog.events`` and the one event consumed from ratings.
"""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, post_load, validate

from services.catalog.domain.model import LEVELS, MODES, STATUSES
from services.common.schemas import (  # noqa: F401
    ActorSchema,  # noqa: F401
    field_errors,
    load,
    load_payload,
)

MAX_PAGE_SIZE = 100


# -------------------------------------------------------------------- helpers


def _text(maximum: int, **kwargs) -> fields.String:
    return fields.String(validate=validate.Length(min=1, max=maximum), **kwargs)


# ---------------------------------------------------------------------- input


class ItemSearchSchema(Schema):
    q = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=100))
    region = _text(12, allow_none=True, load_default=None)
    department = _text(64, allow_none=True, load_default=None)
    level = fields.String(allow_none=True, load_default=None, validate=validate.OneOf(LEVELS))
    mode = fields.String(allow_none=True, load_default=None, validate=validate.OneOf(MODES))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    page_size = fields.Integer(load_default=20, validate=validate.Range(min=1, max=MAX_PAGE_SIZE))

    @post_load
    def _blank_keyword_is_none(self, data, **kwargs):
        keyword = (data.get("q") or "").strip()
        data["q"] = keyword or None
        return data


class DepartmentFilterSchema(Schema):
    region = _text(12, allow_none=True, load_default=None)


class ItemIdSchema(Schema):
    item_id = _text(64, required=True)


class StoreIdSchema(Schema):
    store_id = _text(64, required=True)


class MaterialSchema(Schema):
    name = fields.String(required=True)
    copies = fields.Integer(strict=True, load_default=1)
    original = fields.Boolean(load_default=False)
    note = fields.String(load_default="")


class WindowSchema(Schema):
    name = fields.String(required=True)
    address = fields.String(required=True)
    phone = fields.String(required=True)
    postcode = fields.String(required=True)


class ItemChangesSchema(Schema):
    """Guide fields a department admin may change (domain EDITABLE_FIELDS).

    Shapes only; the domain checks the rules (lengths, ranges, completeness).
    """

    name = fields.String()
    name_en = fields.String()
    modes = fields.List(fields.String())
    promised_days = fields.Integer(strict=True)
    statutory_days = fields.Integer(strict=True)
    description = fields.String()
    conditions = fields.List(fields.String())
    materials = fields.List(fields.Nested(MaterialSchema))
    fees = fields.String()
    legal_basis = fields.List(fields.String())
    joint_departments = fields.List(fields.String())
    handled_by = fields.String()


class NewItemSchema(ItemChangesSchema):
    """A new item: its identity plus any guide field; region and level default
    to the department's, store and window are always the department's."""

    code = fields.String(required=True)
    name = fields.String(required=True)
    department_code = fields.String(required=True)
    region_code = fields.String()
    level = fields.String()


# --------------------------------------------------------------------- output


class RegionSchema(Schema):
    code = fields.String()
    name = fields.String()
    level = fields.String(validate=validate.OneOf(LEVELS))
    parent_code = fields.String(allow_none=True)


class DepartmentSchema(Schema):
    code = fields.String()
    name = fields.String()
    region_code = fields.String()
    level = fields.String()
    store_id = fields.String()


class ItemSummarySchema(Schema):
    item_id = fields.String()
    code = fields.String()
    name = fields.String()
    name_en = fields.String()
    department_code = fields.String()
    department_name = fields.String()
    region_code = fields.String()
    level = fields.String()
    modes = fields.List(fields.String())
    promised_days = fields.Integer()
    status = fields.String(validate=validate.OneOf(STATUSES))


class ItemGuideSchema(ItemSummarySchema):
    description = fields.String()
    conditions = fields.List(fields.String())
    materials = fields.List(fields.Nested(MaterialSchema))
    fees = fields.String()
    legal_basis = fields.List(fields.String())
    statutory_days = fields.Integer()
    joint_departments = fields.List(fields.String())
    window = fields.Nested(WindowSchema, allow_none=True)
    handled_by = fields.String()
    store_id = fields.String(allow_none=True)


class SearchResultSchema(Schema):
    items = fields.List(fields.Nested(ItemSummarySchema))
    page = fields.Integer()
    page_size = fields.Integer()
    total = fields.Integer()


class RatingSchema(Schema):
    reviews = fields.Integer()
    praise_rate = fields.Float(allow_none=True)
    average_grade = fields.Float(allow_none=True)


class StoreSchema(Schema):
    store_id = fields.String()
    name = fields.String()
    department_code = fields.String()
    region_code = fields.String()
    rating = fields.Nested(RatingSchema)


class OnlineCountsSchema(Schema):
    published = fields.Integer()
    online = fields.Integer()
    online_rate = fields.Float(allow_none=True)


class RegionCountsSchema(OnlineCountsSchema):
    region_code = fields.String()
    name = fields.String(allow_none=True)
    level = fields.String(allow_none=True)


class ConsistencyItemSchema(Schema):
    name = fields.String()
    cities_with_item = fields.List(fields.String())
    cities_missing = fields.List(fields.String())
    coverage = fields.Float(allow_none=True)


class ConsistencySchema(Schema):
    cities = fields.Integer()
    province_items = fields.Integer()
    consistent_items = fields.Integer()
    items = fields.List(fields.Nested(ConsistencyItemSchema))


class CatalogStatsSchema(OnlineCountsSchema):
    by_level = fields.Dict(keys=fields.String(), values=fields.Nested(OnlineCountsSchema))
    by_region = fields.List(fields.Nested(RegionCountsSchema))
    consistency = fields.Nested(ConsistencySchema)


# --------------------------------------------------------------------- events


class ItemPublishedSchema(Schema):
    """``catalog.item_published``: an item became public or its public guide changed."""

    item_id = fields.String(required=True)
    code = fields.String(required=True)
    name = fields.String(required=True)
    department_code = fields.String(required=True)
    region_code = fields.String(required=True)
    level = fields.String(required=True, validate=validate.OneOf(LEVELS))
    store_id = fields.String(required=True, allow_none=True)
    promised_days = fields.Integer(required=True, strict=True)
    modes = fields.List(fields.String(validate=validate.OneOf(MODES)), required=True)
    joint_departments = fields.List(fields.String(), required=True)
    window = fields.Nested(WindowSchema, required=True, allow_none=True)
    handled_by = fields.String(required=True)


class ItemRetiredSchema(Schema):
    """``catalog.item_retired``: no new applications for this item."""

    item_id = fields.String(required=True)


class StoreRatingUpdatedSchema(Schema):
    """``catalog.store_rating_updated``: a store's summary after a review."""

    store_id = fields.String(required=True)
    reviews = fields.Integer(required=True, strict=True)
    praise_rate = fields.Float(required=True, allow_none=True)
    average_grade = fields.Float(required=True, allow_none=True)


class ReviewSubmittedSchema(Schema):
    """``ratings.review_submitted`` as the catalog reads it: the store and grade
    matter here; the rest is accepted when present."""

    class Meta:
        unknown = EXCLUDE

    review_id = fields.String()
    application_id = fields.String()
    store_id = _text(64, required=True)
    department_code = fields.String(allow_none=True)
    region_code = fields.String(allow_none=True)
    item_id = fields.String(allow_none=True)
    grade = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=5))
    submitted_at = fields.String()
