"""``dumping.dump`` answers what marshmallow's ``Schema.dump`` answers."""

import dataclasses
from datetime import UTC, date, datetime

import pytest
from marshmallow import Schema, fields, post_dump, pre_dump

from services.common import dumping


class Step(Schema):
    step_id = fields.String()
    due = fields.Date(allow_none=True)


class Case(Schema):
    case_id = fields.String(data_key="id")
    name = fields.String(attribute="title")
    mode = fields.String(attribute="delivery.mode")
    failure = fields.Nested(Step, attribute="shipping.shown", allow_none=True)
    at = fields.DateTime()
    grade = fields.Integer()
    ratio = fields.Float()
    open = fields.Boolean()
    form = fields.Dict(keys=fields.String())
    tags = fields.List(fields.String())
    steps = fields.List(fields.Nested(Step))
    first = fields.Nested(Step, allow_none=True)
    others = fields.Nested(Step, many=True)
    only_ids = fields.Nested(Step(only=("step_id",)), many=True)
    kind = fields.String(dump_default="case")
    secret = fields.String(load_only=True)


@dataclasses.dataclass
class StepObject:
    step_id: str
    due: date | None


@dataclasses.dataclass
class CaseObject:
    case_id: str
    title: str
    at: datetime
    grade: int
    ratio: float
    open: bool
    form: dict
    tags: list
    steps: list
    first: StepObject | None
    others: list
    only_ids: list
    delivery: dict
    shipping: object
    secret: str = "s"


def as_dict(case: CaseObject) -> dict:
    return {field.name: getattr(case, field.name) for field in dataclasses.fields(CaseObject)}


def a_case(**changes) -> CaseObject:
    step = StepObject("accept", date(2026, 12, 3))
    values = {
        "case_id": "c-1",
        "title": "食品经营许可",
        "at": datetime(2026, 12, 3, 8, 0, tzinfo=UTC),
        "grade": 5,
        "ratio": 0.5,
        "open": True,
        "form": {"a": 1},
        "tags": ["x", "y"],
        "steps": [step, {"step_id": "approve", "due": None}],
        "first": step,
        "others": [step],
        "only_ids": [step],
        "delivery": {"mode": "express"},
        "shipping": dataclasses.make_dataclass("Shipping", ["shown"])(step),
    }
    values.update(changes)
    return CaseObject(**values)


@pytest.mark.parametrize("shape", [lambda case: case, as_dict], ids=["object", "dict"])
@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"first": None, "steps": [], "others": [], "tags": None},
        {"form": {}, "grade": 0, "open": False, "steps": None},
        {"delivery": {}, "shipping": None},
    ],
    ids=["full", "empty", "falsy", "dotted_missing"],
)
def test_every_field_is_dumped_as_marshmallow_dumps_it(shape, changes):
    schema = Case()
    obj = shape(a_case(**changes))

    assert dumping._dumper_of(schema) is not None  # not marshmallow's own dump
    assert dumping.dump(schema, obj) == schema.dump(obj)


def test_a_value_missing_from_a_dict_is_left_out_or_defaulted_as_marshmallow_does():
    schema = Case()
    obj = {"case_id": "c-2", "title": "t"}

    dumped = dumping.dump(schema, obj)

    assert dumped == schema.dump(obj)
    assert dumped["kind"] == "case"
    assert "grade" not in dumped


def test_a_key_a_dict_lacks_is_read_as_its_attribute_as_marshmallow_reads_it():
    class Keys(Schema):
        items = fields.Raw()

    obj = {}

    assert dumping.dump(Keys(), obj) == Keys().dump(obj) == {"items": obj.items}


def test_many_and_none_are_dumped_as_marshmallow_dumps_them():
    assert dumping.dump(Step(many=True), [StepObject("a", None)]) == [{"step_id": "a", "due": None}]
    assert dumping.dump(Step(), None) == Step().dump(None)
    assert dumping.dump(Step(many=True), None) == Step(many=True).dump(None)
    assert dumping.dump(Step(), [StepObject("a", None)], many=True) == Step().dump(
        [StepObject("a", None)], many=True
    )


class Hooked(Schema):
    name = fields.String()

    @pre_dump
    def upper(self, obj, **kwargs):
        return {"name": obj["name"].upper()}

    @post_dump
    def tagged(self, data, **kwargs):
        return {**data, "tagged": True}


def test_a_field_read_its_own_way_is_left_to_marshmallow():
    class Labelled(Step):
        label = fields.Method("label_of")

        def label_of(self, obj):
            return f"step {obj.step_id}"

    schema = Labelled()
    obj = StepObject("accept", None)

    assert dumping._dumper_of(schema) is None
    assert dumping.dump(schema, obj) == {"step_id": "accept", "due": None, "label": "step accept"}


def test_a_schema_with_hooks_is_dumped_by_marshmallow_nested_too():
    class Outer(Schema):
        inner = fields.Nested(Hooked)
        inners = fields.List(fields.Nested(Hooked))

    obj = {"inner": {"name": "a"}, "inners": [{"name": "b"}]}

    assert dumping.dump(Hooked(), {"name": "a"}) == {"name": "A", "tagged": True}
    assert dumping.dump(Outer(), obj) == Outer().dump(obj)


class Delegating:
    """A view that answers what it does not have from what it wraps."""

    def __init__(self, wrapped, **own):
        self.wrapped = wrapped
        self.__dict__.update(own)

    def __getattr__(self, name):
        return getattr(self.wrapped, name)


class Keyed:
    """A mapping that is not a dict: its keys first, then its attributes."""

    def __init__(self, values: dict, **attributes):
        self.values = values
        self.__dict__.update(attributes)

    def __getitem__(self, key):
        return self.values[key]


def test_objects_that_delegate_or_are_indexed_are_read_as_marshmallow_reads_them():
    schema = Case()
    case = a_case()
    view = Delegating(case, grade=1)
    keyed = Keyed({"case_id": "k-1", "title": "keyed"}, grade=2, tags=["t"])

    assert dumping.dump(schema, view) == schema.dump(view)
    assert dumping.dump(schema, view)["grade"] == 1
    assert dumping.dump(schema, keyed) == schema.dump(keyed)
    assert dumping.dump(schema, keyed)["grade"] == 2
