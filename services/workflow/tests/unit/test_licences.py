"""Licence numbers (GB/T 36904 shape, ISO 7064 MOD 37,36), canonical JSON
(RFC 8785) and validity, in the domain alone."""

import json
from datetime import date

import pytest

from services.common import instances, uscc
from services.workflow.domain import licences
from services.workflow.domain.licences import (
    ALPHANUMERIC,
    LicenceType,
    canonical_json,
    check_character,
    format_number,
    parse_number,
    period_status,
    type_code_from,
    valid_until,
)

USCC = "11320000MB0123456K"
NUMBER = "1.2.156.3005.2.320000JSSCJG001.11320000MB0123456K.K7Q2M9X4TB8W.001.4"


def test_a_number_has_the_national_shape_and_its_parts():
    assert format_number("320000JSSCJG001", USCC, "K7Q2M9X4TB8W", 1) == NUMBER
    parts = parse_number(NUMBER)
    assert (parts.type_code, parts.issuer_uscc, parts.serial, parts.version) == (
        "320000JSSCJG001",
        USCC,
        "K7Q2M9X4TB8W",
        1,
    )
    assert instances.licence_issuer(NUMBER) == USCC
    assert len(format_number("A" * 20, USCC, "Z" * licences.SERIAL_LENGTH, 999)) <= 73


@pytest.mark.parametrize(
    ("type_code", "uscc", "serial", "version"),
    [
        ("a1", USCC, "K7Q2M9X4TB8W", 1),  # lower case
        ("A", USCC, "K7Q2M9X4TB8W", 1),  # too short
        ("A" * 21, USCC, "K7Q2M9X4TB8W", 1),
        ("SPJY", "11320000MB0123456", "K7Q2M9X4TB8W", 1),  # 17 characters
        ("SPJY", "11320000MB0123456I", "K7Q2M9X4TB8W", 1),  # I is not in GB 32100
        ("SPJY", USCC, "k7q2", 1),
        ("SPJY", USCC, "K7Q2M9X4TB8W", 0),
        ("SPJY", USCC, "K7Q2M9X4TB8W", 1000),
    ],
)
def test_every_part_of_a_number_is_checked(type_code, uscc, serial, version):
    with pytest.raises(ValueError):
        format_number(type_code, uscc, serial, version)


def test_the_check_character_catches_every_single_substitution():
    body = NUMBER[:-2]
    characters = [i for i, char in enumerate(body) if char != "."]
    for index in characters:
        for replacement in ALPHANUMERIC:
            if replacement != body[index]:
                changed = body[:index] + replacement + body[index + 1 :]
                assert check_character(changed) != NUMBER[-1], (index, replacement)
    # A hybrid system catches most swaps of neighbours, not all (pure ones do).
    swaps = caught = 0
    for first, second in zip(characters, characters[1:], strict=False):
        if second == first + 1 and body[first] != body[second]:
            swapped = body[:first] + body[second] + body[first] + body[second + 1 :]
            swaps += 1
            caught += check_character(swapped) != NUMBER[-1]
    assert caught >= 0.9 * swaps


def test_iso_7064_mod_37_36_by_its_definition():
    # P starts at 36; each character: S = (P + value) mod 36 (0 counts as 36),
    # P = 2S mod 37; the check makes (P + check) mod 36 == 1.
    product = 36
    for char in "ABC123":
        product = ((product + ALPHANUMERIC.index(char)) % 36 or 36) * 2 % 37
    assert (product + ALPHANUMERIC.index(check_character("ABC123"))) % 36 == 1
    assert check_character("A.B.C.1.2.3") == check_character("ABC123")


def test_numbers_with_a_wrong_check_or_shape_are_not_numbers():
    assert parse_number(NUMBER[:-1] + "5") is None
    assert parse_number(NUMBER.replace(".001.", ".01.")) is None
    assert parse_number("JS32010220261012000001") is None
    assert licences.is_well_formed("JS32010220261012000001")  # issued before
    assert not licences.is_well_formed("JS32010220261312000001")


def test_serials_are_random():
    serials = {licences.random_serial() for _ in range(1000)}
    assert len(serials) == 1000
    assert all(len(serial) == licences.SERIAL_LENGTH for serial in serials)


def test_a_licence_type_from_the_catalogue_or_derived_from_the_item():
    given = {"licence_type": {"code": "SPJY", "name": "食品经营许可证", "valid_years": 5}}
    assert LicenceType.of_item(given) == LicenceType("SPJY", "食品经营许可证", 5)
    derived = LicenceType.of_item({"code": "320000-JSSCJG-001", "name": "食品经营许可"})
    assert derived == LicenceType("320000JSSCJG001", "食品经营许可", None)
    assert type_code_from("a-very-long-item-code-of-the-county-0001") == "MCODEOFTHECOUNTY0001"
    assert type_code_from("") == "XK"
    # A malformed type from the catalogue is not taken.
    assert LicenceType.of_item({"licence_type": {"code": "x"}, "code": "ab-01"}).code == "AB01"


def test_the_issuer_from_the_catalogue_or_the_departments_default():
    assert licences.issuer_uscc_of({"issuer_uscc": USCC}) == USCC
    default = licences.issuer_uscc_of({"department_code": "js-amr", "region_code": "320000"})
    assert default == instances.default_issuer_uscc("js-amr", "320000")
    assert uscc.is_uscc(default) and default.startswith("11320000")
    assert default != instances.default_issuer_uscc("js-ga", "320000")


@pytest.mark.parametrize(
    ("valid_from", "years", "valid_to"),
    [
        (date(2026, 10, 8), 5, date(2031, 10, 7)),
        (date(2028, 2, 29), 1, date(2029, 2, 27)),
        (date(2026, 1, 1), None, None),
    ],
)
def test_validity_runs_to_the_day_before_the_anniversary(valid_from, years, valid_to):
    assert valid_until(valid_from, years) == valid_to


def test_the_period_on_a_day():
    assert period_status(date(2026, 1, 1), date(2026, 12, 31), date(2026, 6, 1)) == "current"
    assert period_status(date(2026, 1, 1), date(2026, 12, 31), date(2027, 1, 1)) == "expired"
    assert period_status(date(2026, 1, 1), None, date(2026, 1, 1)) == "current"
    assert period_status(date(2026, 1, 2), None, date(2026, 1, 1)) == "not_yet_valid"


def test_canonical_json_follows_rfc_8785():
    # RFC 8785 section 3.2.2: the sample with numbers and text.
    value = {
        "numbers": [333333333.33333329, 1e30, 4.50, 2e-3, 0.000000000000000000000000001],
        "string": "\u20ac$\u000f\u000aA'\u0042\u0022\u005c\\\"/",
        "literals": [None, True, False],
    }
    assert (
        canonical_json(value)
        == (
            '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
            '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
        ).encode()
    )
    # Keys sort by UTF-16 code units (an astral character before U+FB33).
    assert canonical_json({"\ufb33": 1, "\U0001f600": 2, "\u20ac": 3}) == (
        '{"€":3,"😀":2,"דּ":1}'.encode()
    )
    assert canonical_json({"a": 1, "b": [1.0, -0.0, 100000000000000000000.0]}) == (
        b'{"a":1,"b":[1,0,100000000000000000000]}'
    )
    assert json.loads(canonical_json({"z": "中文", "a": None})) == {"a": None, "z": "中文"}


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), {1: "x"}, object(), "\ud800", 10**400])
def test_what_json_cannot_carry_alike_is_refused(bad):
    with pytest.raises(ValueError):
        canonical_json({"x": bad})


def test_nesting_is_bounded():
    deep = current = {}
    for _ in range(licences.MAX_DEPTH + 2):
        current["x"] = {}
        current = current["x"]
    with pytest.raises(ValueError):
        canonical_json(deep)
