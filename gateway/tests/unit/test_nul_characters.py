import pytest

from gateway.http import nul_fields, refuse_nul_characters
from services.common.errors import Invalid


def test_nul_characters_are_found_with_the_field_path():
    body = {"form": {"name": "a\x00b"}, "materials": [{"name": "ok"}, {"name": "\x00"}]}
    assert nul_fields(body) == {
        "form.name": "must not contain NUL characters",
        "materials.1.name": "must not contain NUL characters",
    }


def test_clean_input_passes():
    refuse_nul_characters({"q": "食品", "page": "1", "nested": [1, None, {"x": "y"}]})


def test_a_nul_in_a_path_parameter_is_invalid_naming_it():
    with pytest.raises(Invalid) as raised:
        refuse_nul_characters({"application_id": "\x00"})
    assert raised.value.fields == {"application_id": "must not contain NUL characters"}
