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

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from services.catalog.domain.basic import ITEM_TYPES, SERVES
from services.catalog.domain.fees import MAX_AMOUNT_FEN, MAX_FEES, MAX_VALID_YEARS
from services.catalog.domain.model import (
    CASE_TYPES,
    DEPARTMENT_KINDS,
    LEVELS,
    LIMIT_UNITS,
    MATERIAL_SOURCES,
    MAX_VISITS,
    MODES,
    NECESSITIES,
    STATUSES,
)
from services.catalog.domain.stores import STORE_KINDS
from services.catalog.domain.zones import ASSESSMENT_KINDS
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
ZONE_ID_EXAMPLE = "7c0e5f6b1a2d43e89f01b2c3d4e5f607"
LICENCE_TYPE_CODE = FullMatch(r"^[0-9A-Z]{2,20}$", error="must be 2..20 digits or capital letters")
USCC_EXAMPLE = "11320115MB1F7041XW"


# --- requests ---------------------------------------------------------------


class DepartmentQuery(Schema):
    """``GET /departments``: every department, or those seated in ``region``."""

    region = _code(12, metadata={"example": "320100"})


class ItemSearchQuery(PageQuery):
    """``GET /items``: published items matching every filter given."""

    q = fields.String(
        validate=validate.Length(max=100),
        metadata={
            "description": "words (or part of a word) of the name, its pinyin initials, a"
            " common word for it, the code's beginning, the English name or the"
            " description, ignoring case; every word must match; empty or blank: no"
            " keyword, results in code order",
            "example": "营业执照",
        },
    )
    region = _code(
        12,
        metadata={
            "description": "region the item sits in, its children included (a city"
            " includes its counties, the province everything)",
            "example": "320100",
        },
    )
    department = _code(64, metadata={"example": "js-amr"})
    level = fields.String(validate=validate.OneOf(LEVELS))
    type = fields.String(
        validate=validate.OneOf(tuple(ITEM_TYPES)),
        metadata={"description": "item type (national code)", "example": "01"},
    )
    mode = fields.String(validate=validate.OneOf(MODES))
    serves = fields.String(
        validate=validate.OneOf(SERVES), metadata={"description": "whom the item serves"}
    )


class ExportItems(Schema):
    """``export_items``: published items after ``after`` in item_id order (the
    gateway's search index loads itself a page at a time)."""

    after = fields.String(allow_none=True, load_default=None)
    limit = fields.Integer(strict=True, load_default=1000, validate=validate.Range(min=1, max=5000))


class ItemExport(Schema):
    """A page of ``item_published`` payloads; ``next`` is the last item_id, null
    at the end."""

    items = fields.List(fields.Dict(), required=True)
    next = fields.String(required=True, allow_none=True)


class ItemIdRequest(Schema):
    item_id = _path_id(metadata={"example": ITEM_ID_EXAMPLE})


class GetItem(ItemIdRequest):
    """A guide for someone (``actor``; null: the public), who sees a draft or
    retired item only as staff of its department or the operator. Without
    ``actor`` (another service asking) every item is answered."""

    actor = fields.Nested(ActorSchema, allow_none=True)


class StoreIdRequest(Schema):
    store_id = _path_id(metadata={"example": "store-js-amr"})


class MaterialBody(Schema):
    """One document the applicant hands in."""

    name = _text(1, 200, required=True, metadata={"example": "食品生产许可申请书"})
    copies = fields.Integer(
        strict=True,
        load_default=1,
        validate=validate.Range(min=0, max=MAX_COPIES),
        metadata={"description": "paper copies; 0: none on paper"},
    )
    original = Boolean(load_default=False)
    note = _text(1, 500, metadata={"description": "leave out for none"})
    necessity = fields.String(load_default="required", validate=validate.OneOf(NECESSITIES))
    source = fields.String(
        load_default="applicant",
        validate=validate.OneOf(MATERIAL_SOURCES),
        metadata={"description": "who provides it: the applicant or a government body"},
    )
    paper_size = _text(0, 20, load_default="A4", metadata={"example": "A4"})
    blank_form = _text(
        1, 500, allow_none=True, metadata={"description": "file reference (URL or path)"}
    )
    sample = _text(
        1, 500, allow_none=True, metadata={"description": "file reference (URL or path)"}
    )
    acceptance_standard = _text(0, 500)


class LegalReferenceBody(Schema):
    """One source of the legal basis: the law and the article."""

    law = _text(1, 200, required=True, metadata={"example": "《中华人民共和国食品安全法》"})
    article = _text(0, 100, load_default="", metadata={"example": "第三十五条"})


def _legal_basis(**kwargs) -> fields.List:
    return fields.List(
        fields.Nested(LegalReferenceBody), validate=validate.Length(max=50), **kwargs
    )


BASIC_CODE = FullMatch(r"^[0-9]{12}$", error="must be 12 digits")
BASIC_CODE_EXAMPLE = "000117001000"
PHONE = {"metadata": {"example": "025-12345"}}


class FeeBody(Schema):
    """One fee (收费项目); the amount in fen, a whole number."""

    name = _text(1, 100, required=True, metadata={"example": "护照工本费"})
    amount_fen = fields.Integer(
        strict=True,
        required=True,
        validate=validate.Range(min=0, max=MAX_AMOUNT_FEN),
        metadata={"example": 12000},
    )
    standard = _text(0, 500, metadata={"example": "120元/本"})
    legal_basis = _text(0, 500)
    waivable = Boolean(
        load_default=False, metadata={"description": "whether fee_waiver may remove it"}
    )


class FeeWaiverBody(Schema):
    """Who pays nothing of the waivable fees: a rule over the applicant's facts."""

    description = _text(1, 500, required=True, metadata={"example": "70周岁以上老年人免收"})
    rule = fields.Dict(
        required=True,
        metadata={
            "description": 'a rule: {"fact", "op", "value"}, or {"all": [...]} / {"any": [...]}',
            "example": {"fact": "applicant.age", "op": "ge", "value": 70},
        },
    )


class LicenceTypeBody(Schema):
    """The licence an item issues."""

    code = fields.String(required=True, validate=LICENCE_TYPE_CODE, metadata={"example": "SPJYXK"})
    name = _text(1, 100, required=True, metadata={"example": "食品经营许可证"})
    valid_years = fields.Integer(
        strict=True,
        required=True,
        allow_none=True,
        validate=validate.Range(min=1, max=MAX_VALID_YEARS),
        metadata={"description": "null: valid without end", "example": 5},
    )


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
    fees = fields.List(
        fields.Nested(FeeBody),
        validate=validate.Length(max=MAX_FEES),
        metadata={"description": "[] when free"},
    )
    fee_waiver = fields.Nested(FeeWaiverBody, allow_none=True)
    licence_type = fields.Nested(LicenceTypeBody, allow_none=True)
    transferred_from = _text(
        1,
        64,
        allow_none=True,
        metadata={
            "description": "集中批: the department an approval bureau took the item over from",
            "example": "jn-amr",
        },
    )
    legal_basis = _legal_basis(metadata={"description": "locked to the basic item's"})
    joint_departments = _unique_list(
        _text(1, 64),
        metadata={"description": "other departments that review each application"},
    )
    handled_by = fields.String(
        validate=HANDLED_BY,
        metadata={"description": "the workflow instance that handles it", "example": "workflow"},
    )
    basic_code = fields.String(
        validate=BASIC_CODE,
        metadata={"description": "locked: the basic item", "example": BASIC_CODE_EXAMPLE},
    )
    type = fields.String(
        validate=validate.OneOf(list(ITEM_TYPES)),
        metadata={"description": "national item type; locked to the basic item's"},
    )
    case_type = fields.String(validate=validate.OneOf(CASE_TYPES))
    visits = fields.Integer(
        strict=True,
        validate=validate.Range(min=0, max=MAX_VISITS),
        metadata={"description": "visits to the site; 0 needs online or express to publish"},
    )
    online_depth = fields.Integer(
        strict=True, allow_none=True, validate=validate.Range(min=1, max=7)
    )
    limit_unit = fields.String(validate=validate.OneOf(LIMIT_UNITS))
    limit_note = _text(0, 500)
    process_summary = _text(0, 2000)
    place = _text(0, 300)
    hours = _text(0, 200)
    consultation_phone = _text(0, 50, **PHONE)
    complaint_phone = _text(0, 50, **PHONE)
    serves = _unique_list(
        fields.String(validate=validate.OneOf(SERVES)),
        metadata={"description": "whom it serves; at least one to publish"},
    )


class CreateItemBody(UpdateItemBody):
    """``POST /items``: a draft item implementing a basic item. Its name, type
    and legal basis are the basic item's (giving another is 409 naming it);
    ``code`` defaults to the implementing code; ``region_code`` and ``level``
    default to the department's; its store and window are always the
    department's."""

    basic_code = fields.String(
        required=True,
        validate=BASIC_CODE,
        metadata={"description": "the basic item implemented", "example": BASIC_CODE_EXAMPLE},
    )
    code = _text(1, 64, metadata={"example": "320000-JSSCJG-900"})
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
    kind = fields.String(required=True, validate=validate.OneOf(DEPARTMENT_KINDS))
    uscc = fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "Unified Social Credit Code; null: not recorded"},
    )


class Fee(Schema):
    name = fields.String(required=True)
    amount_fen = fields.Integer(required=True, validate=validate.Range(min=0))
    standard = fields.String(required=True, metadata={"description": '"" for none'})
    legal_basis = fields.String(required=True, metadata={"description": '"" for none'})
    waivable = fields.Boolean(required=True)


class FeeWaiver(Schema):
    description = fields.String(required=True)
    rule = fields.Dict(required=True, metadata={"description": "services/common/rules.py"})


class LicenceType(Schema):
    code = fields.String(required=True, metadata={"example": "SPJYXK"})
    name = fields.String(required=True)
    valid_years = fields.Integer(
        required=True, allow_none=True, metadata={"description": "null: valid without end"}
    )


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
    transferred_from = fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "集中批: the department the item was taken over from"},
    )
    fees = fields.List(fields.Nested(Fee), required=True, metadata={"description": "[] when free"})
    licence_type = fields.Nested(LicenceType, required=True, allow_none=True)
    basic_code = fields.String(
        required=True, allow_none=True, metadata={"example": BASIC_CODE_EXAMPLE}
    )
    implementing_code = fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "USCC + level digit + basic code (31 characters)"},
    )
    type = fields.String(required=True, allow_none=True, validate=validate.OneOf(list(ITEM_TYPES)))
    case_type = fields.String(required=True, validate=validate.OneOf(CASE_TYPES))
    serves = fields.List(fields.String(validate=validate.OneOf(SERVES)), required=True)
    visits = fields.Integer(required=True, validate=validate.Range(min=0, max=MAX_VISITS))
    online_depth = fields.Integer(
        required=True, allow_none=True, validate=validate.Range(min=1, max=7)
    )


class Material(Schema):
    name = fields.String(required=True)
    copies = fields.Integer(required=True, validate=validate.Range(min=0))
    original = fields.Boolean(required=True)
    note = fields.String(required=True, metadata={"description": '"" for none'})
    necessity = fields.String(required=True, validate=validate.OneOf(NECESSITIES))
    source = fields.String(required=True, validate=validate.OneOf(MATERIAL_SOURCES))
    paper_size = fields.String(required=True)
    blank_form = fields.String(required=True, allow_none=True)
    sample = fields.String(required=True, allow_none=True)
    acceptance_standard = fields.String(required=True)


class LegalReference(Schema):
    law = fields.String(required=True)
    article = fields.String(required=True, metadata={"description": '"" for none'})


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
    fee_waiver = fields.Nested(FeeWaiver, required=True, allow_none=True)
    issuer_uscc = fields.String(
        required=True,
        allow_none=True,
        metadata={
            "description": "the USCC of the item's department, the issuer of its licences;"
            " null: not recorded",
            "example": USCC_EXAMPLE,
        },
    )
    legal_basis = fields.List(fields.Nested(LegalReference), required=True)
    statutory_days = fields.Integer(required=True, metadata={"description": "working days"})
    joint_departments = fields.List(fields.String(), required=True)
    window = fields.Nested(Window, required=True, allow_none=True)
    handled_by = fields.String(
        required=True, validate=HANDLED_BY, metadata={"example": SHARED_WORKFLOW}
    )
    store_id = fields.String(required=True, allow_none=True, metadata={"example": "store-js-amr"})
    limit_unit = fields.String(required=True, validate=validate.OneOf(LIMIT_UNITS))
    limit_note = fields.String(required=True)
    process_summary = fields.String(required=True)
    place = fields.String(required=True)
    hours = fields.String(required=True)
    consultation_phone = fields.String(required=True)
    complaint_phone = fields.String(required=True)
    revision = fields.Integer(
        required=True, metadata={"description": "grows with every change of the item"}
    )


def _share(**kwargs) -> fields.Float:
    return fields.Float(validate=validate.Range(min=0, max=1), **kwargs)


class Store(Schema):
    """A flagship store and its rating. A department's store shows ratings'
    published indicators of the store over all time, as ratings last announced
    them; a city's store (no department) aggregates the stores of the
    departments seated in the city or its counties: reviews summed, rates
    weighted by reviews."""

    store_id = fields.String(required=True, metadata={"example": "store-js-amr"})
    name = fields.String(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(STORE_KINDS))
    department_code = fields.String(
        required=True, allow_none=True, metadata={"description": "null for a city store"}
    )
    region_code = fields.String(required=True)
    rating = fields.Nested(Rating, required=True)


class StoreQuery(PageQuery):
    """``GET /stores``: flagship stores matching every filter given."""

    kind = fields.String(validate=validate.OneOf(STORE_KINDS))
    region = _code(
        12,
        metadata={
            "description": "region the store sits in, or a region under it (a city"
            " includes its counties, the province everything)",
            "example": "320100",
        },
    )


class OnlineCounts(Schema):
    """Published items, those offering online or express, and their share."""

    published = fields.Integer(required=True, validate=validate.Range(min=0))
    online = fields.Integer(required=True, validate=validate.Range(min=0))
    online_rate = _share(required=True, allow_none=True, metadata={"description": "null: none"})


class LevelCounts(OnlineCounts):
    """The published items of a scope, the basic items they implement and those
    deviating from their basic item."""

    implemented = fields.Integer(
        required=True,
        validate=validate.Range(min=0),
        metadata={"description": "distinct basic items with a published item here"},
    )
    deviating = fields.Integer(
        required=True,
        validate=validate.Range(min=0),
        metadata={
            "description": "published items whose name, type or legal basis differ from"
            " their basic item's (there should be none)"
        },
    )


class CountsByLevel(Schema):
    province = fields.Nested(LevelCounts, required=True)
    city = fields.Nested(LevelCounts, required=True)
    county = fields.Nested(LevelCounts, required=True)


class RegionCounts(LevelCounts):
    """A region's own published items (a city's do not include its counties')."""

    region_code = fields.String(required=True)
    name = fields.String(
        required=True, allow_none=True, metadata={"description": "null: a region not known"}
    )
    level = fields.String(required=True, allow_none=True, validate=validate.OneOf(LEVELS))
    implementation_rate = _share(
        required=True,
        allow_none=True,
        metadata={"description": "implemented / basic_items; null when there is no basic item"},
    )


class CatalogStats(LevelCounts):
    """Online rate, basic items implemented and items deviating from their basic
    item (三级四同), overall, by level and by region (every region, in code
    order), kept from catalog's events."""

    basic_items = fields.Integer(required=True, validate=validate.Range(min=0))
    by_level = fields.Nested(CountsByLevel, required=True)
    by_region = fields.List(fields.Nested(RegionCounts), required=True)


RegionList = collection_of(Region)
DepartmentList = collection_of(Department)
StoreList = collection_of(Store)
StorePage = page_of(Store)
ItemSummaryPage = page_of(ItemSummary)


# --- basic items (三级四同) -----------------------------------------------------


class UpdateBasicItemBody(Schema):
    """``PUT /catalogue/basic/{basic_code}``: the fields that change; every item
    derived from the basic item follows."""

    name = _text(1, 200, metadata={"example": "食品经营许可证核发"})
    name_en = _text(0, 300)
    type = fields.String(validate=validate.OneOf(list(ITEM_TYPES)), metadata={"example": "01"})
    legal_basis = _legal_basis()
    serves = _unique_list(fields.String(validate=validate.OneOf(SERVES)))
    description = _text(0, 4000)


class BasicItemBody(UpdateBasicItemBody):
    """``POST /catalogue/basic``: a basic item, published by a province-level
    department (its own) or the operator."""

    basic_code = fields.String(
        required=True, validate=BASIC_CODE, metadata={"example": BASIC_CODE_EXAMPLE}
    )
    name = _text(1, 200, required=True, metadata={"example": "食品经营许可证核发"})
    type = fields.String(
        required=True, validate=validate.OneOf(list(ITEM_TYPES)), metadata={"example": "01"}
    )
    legal_basis = _legal_basis(required=True)
    department_code = _text(1, 64, required=True, metadata={"example": "js-amr"})


class CreateBasicItem(BasicItemBody):
    actor = fields.Nested(ActorSchema, required=True)


class BasicCodeRequest(Schema):
    basic_code = fields.String(
        required=True, validate=BASIC_CODE, metadata={"example": BASIC_CODE_EXAMPLE}
    )


class UpdateBasicItem(UpdateBasicItemBody, BasicCodeRequest):
    actor = fields.Nested(ActorSchema, required=True)


class BasicItemQuery(PageQuery):
    """``GET /catalogue/basic``: basic items matching every filter given, in code order."""

    department = _code(64, metadata={"example": "js-amr"})
    type = fields.String(validate=validate.OneOf(list(ITEM_TYPES)))
    q = fields.String(
        validate=validate.Length(max=100),
        metadata={"description": "part of the name; empty: no filter", "example": "食品"},
    )


class BasicItem(Schema):
    """A basic item (基本目录事项); ``revision`` grows with every change."""

    basic_code = fields.String(required=True, metadata={"example": BASIC_CODE_EXAMPLE})
    name = fields.String(required=True)
    name_en = fields.String(required=True)
    type = fields.String(required=True, validate=validate.OneOf(list(ITEM_TYPES)))
    type_name = fields.String(required=True, metadata={"example": "行政许可"})
    legal_basis = fields.List(fields.Nested(LegalReference), required=True)
    department_code = fields.String(required=True)
    serves = fields.List(fields.String(validate=validate.OneOf(SERVES)), required=True)
    description = fields.String(required=True)
    revision = fields.Integer(required=True)


BasicItemPage = page_of(BasicItem)


# --- zones (区域评) -----------------------------------------------------------


class ZoneBody(Schema):
    """``POST /zones``: a development zone; its id follows from the code."""

    code = fields.String(
        required=True,
        validate=FullMatch(
            r"^[0-9A-Za-z][0-9A-Za-z-]{0,63}$",
            error="must be 1..64 letters, digits or -, starting with a letter or digit",
        ),
        metadata={"example": "320115-JNKFQ"},
    )
    name = _text(1, 100, required=True, metadata={"example": "南京江宁经济技术开发区"})
    committee_department_code = _text(1, 64, required=True, metadata={"example": "jn-kfq"})
    region_code = _text(
        1, 12, metadata={"description": "a county; default the committee's", "example": "320115"}
    )


class CreateZone(ZoneBody):
    actor = fields.Nested(ActorSchema, required=True)


class ZoneQuery(PageQuery):
    """``GET /zones``: an operator's every zone, a zone admin's own."""

    region = _code(12, metadata={"example": "320115"})


class ListZones(ZoneQuery):
    actor = fields.Nested(ActorSchema, required=True)


class ZoneIdRequest(Schema):
    zone_id = _path_id(metadata={"example": ZONE_ID_EXAMPLE})


class AssessmentBody(Schema):
    """``POST /zones/{zone_id}/assessments``: a regional assessment report."""

    kind = fields.String(required=True, validate=validate.OneOf(ASSESSMENT_KINDS))
    title = _text(1, 200, required=True, metadata={"example": "江宁开发区区域环境影响评价报告书"})
    valid_from = fields.Date(required=True, metadata={"example": "2025-06-01"})
    valid_to = fields.Date(
        required=True, metadata={"description": "last valid day", "example": "2030-05-31"}
    )
    approved_by = _text(1, 200, metadata={"example": "南京市生态环境局"})

    @validates_schema
    def _to_not_before_from(self, data, **kwargs):
        if (
            data.get("valid_from")
            and data.get("valid_to")
            and data["valid_to"] < data["valid_from"]
        ):
            raise ValidationError("must not be before valid_from", "valid_to")


class RecordAssessment(AssessmentBody, ZoneIdRequest):
    actor = fields.Nested(ActorSchema, required=True)


class AssessmentQuery(PageQuery):
    kind = fields.String(validate=validate.OneOf(ASSESSMENT_KINDS))


class ListAssessments(AssessmentQuery, ZoneIdRequest):
    actor = fields.Nested(ActorSchema, required=True)


class FindAssessment(Schema):
    """Workflow's question: the zone's report of ``kind`` valid on ``on``."""

    zone_id = _text(1, PATH_ID_MAX, required=True)
    kind = fields.String(required=True, validate=validate.OneOf(ASSESSMENT_KINDS))
    on = fields.Date(required=True, metadata={"example": "2026-12-01"})


class Zone(Schema):
    zone_id = fields.String(required=True, metadata={"example": ZONE_ID_EXAMPLE})
    code = fields.String(required=True, metadata={"example": "320115-JNKFQ"})
    name = fields.String(required=True)
    region_code = fields.String(required=True)
    committee_department_code = fields.String(required=True)


class ZoneSummary(Schema):
    zone_id = fields.String(required=True)
    name = fields.String(required=True)
    region_code = fields.String(required=True)


class Assessment(Schema):
    assessment_id = fields.String(required=True)
    zone_id = fields.String(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(ASSESSMENT_KINDS))
    title = fields.String(required=True)
    approved_by = fields.String(required=True, allow_none=True)
    valid_from = fields.Date(required=True)
    valid_to = fields.Date(required=True, metadata={"description": "last valid day"})


class FoundAssessment(Schema):
    """The zone (null: unknown) and its report valid that day (null: none)."""

    zone = fields.Nested(ZoneSummary, required=True, allow_none=True)
    assessment = fields.Nested(Assessment, required=True, allow_none=True)


ZonePage = page_of(Zone)
AssessmentPage = page_of(Assessment)


# --- events -----------------------------------------------------------------


class ItemPublished(ItemSummary):
    """``catalog.item_published``: an item became public or its public guide
    changed. Every field of the item's summary, and what other services need
    to take an application for it; ``revision`` grows with every change (keep
    the highest seen per item)."""

    store_id = fields.String(required=True, allow_none=True)
    promised_days = fields.Integer(
        required=True, strict=True, validate=validate.Range(min=1, max=MAX_DAYS)
    )
    joint_departments = fields.List(fields.String(), required=True)
    window = fields.Nested(Window, required=True, allow_none=True)
    handled_by = fields.String(required=True, validate=HANDLED_BY)
    description = fields.String(required=True)
    legal_basis = fields.List(fields.Nested(LegalReference), required=True)
    statutory_days = fields.Integer(required=True, strict=True)
    revision = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))


class ItemRetired(Schema):
    """``catalog.item_retired``: no new applications for this item."""

    item_id = fields.String(required=True)
    revision = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))


class BasicItemPublished(Schema):
    """``catalog.basic_item_published``: a basic item was published or changed;
    the items derived from it follow."""

    basic_code = fields.String(required=True, validate=BASIC_CODE)
    name = fields.String(required=True)
    name_en = fields.String(required=True)
    type = fields.String(required=True, validate=validate.OneOf(list(ITEM_TYPES)))
    legal_basis = fields.List(fields.Nested(LegalReference), required=True)
    department_code = fields.String(required=True)
    serves = fields.List(fields.String(validate=validate.OneOf(SERVES)), required=True)
    description = fields.String(required=True)
    revision = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))


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
    "basic_item_published": BasicItemPublished,
    "store_rating_updated": StoreRatingUpdated,
}
