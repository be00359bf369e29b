import datetime as dt
import enum

from services.common.messaging.envelope import to_json_ready
from services.common.values import copy_json


def test_copy_json_is_deep_and_equal():
    value = {"a": [1, 2.5, {"b": None, "c": True}], "d": "文字", "e": {"f": []}}
    copied = copy_json(value)
    assert copied == value
    copied["a"][2]["b"] = "changed"
    copied["e"]["f"].append(1)
    assert value["a"][2]["b"] is None and value["e"]["f"] == []


def test_copy_json_copies_what_json_does_not_carry_deeply_too():
    moment = dt.datetime(2026, 12, 1, 8, 0)
    value = {"tags": {"x"}, "pair": ([1], 2), "at": moment}
    copied = copy_json(value)
    assert copied == value
    copied["tags"].add("y")
    copied["pair"][0].append(3)
    assert value["tags"] == {"x"} and value["pair"] == ([1], 2)


class Colour(enum.StrEnum):
    RED = "red"


def test_to_json_ready_converts_a_str_enum_to_its_value_and_keeps_plain_values():
    ready = to_json_ready({"colour": Colour.RED, "n": [1, "two", None], 3: dt.date(2026, 1, 2)})
    assert ready == {"colour": "red", "n": [1, "two", None], "3": "2026-01-02"}
    assert type(ready["colour"]) is str
