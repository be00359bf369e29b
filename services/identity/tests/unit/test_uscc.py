import pytest

from services.identity.domain.exceptions import InvalidUscc
from services.identity.domain.uscc import USCC_ALPHABET, uscc_check_char, validate_uscc

REAL_CODE = "91350100M000100Y43"


def make_uscc(first17: str = "91320102MA1XY20K5") -> str:
    return first17 + uscc_check_char(first17)


def test_alphabet_leaves_out_i_o_z_s_v():
    assert len(USCC_ALPHABET) == 31
    assert not set("IOZSV") & set(USCC_ALPHABET)


def test_real_code_is_valid():
    assert uscc_check_char(REAL_CODE[:17]) == "3"
    assert validate_uscc(REAL_CODE) == REAL_CODE


def test_normalises_case_and_whitespace():
    assert validate_uscc(" 91350100m000100y43 ") == REAL_CODE


def test_built_code_is_valid():
    code = make_uscc()
    assert validate_uscc(code) == code


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("91350100M000100Y44", "bad check character"),
        ("91350100M000100Y4", "must be 18 characters"),
        ("91350100M000100Y433", "must be 18 characters"),
        ("91350100M000100I43", "contains a character outside the code alphabet"),
        ("91350100O000100Y43", "contains a character outside the code alphabet"),
        ("91350100M000100Y4-", "contains a character outside the code alphabet"),
        (12345, "must be a string"),
    ],
)
def test_invalid_codes_give_a_reason(code, reason):
    with pytest.raises(InvalidUscc) as excinfo:
        validate_uscc(code)
    assert excinfo.value.reason == reason


def test_any_single_substitution_is_caught():
    code = make_uscc()
    for position in range(17):
        for replacement in "0AY":
            if replacement == code[position]:
                continue
            altered = code[:position] + replacement + code[position + 1 :]
            with pytest.raises(InvalidUscc):
                validate_uscc(altered)


def test_check_char_rejects_bad_input():
    with pytest.raises(ValueError):
        uscc_check_char("91350100M000100I4")
