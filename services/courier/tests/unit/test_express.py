"""What an express application must name before anything is shipped."""

import pytest

from services.courier.domain.exceptions import ValidationFailed
from services.courier.domain.express import REQUIRED, express_parties
from services.courier.domain.model import Address

from .builders import APPLICANT_ADDRESS, WINDOW


@pytest.mark.parametrize("mode", ["online", "window"])
def test_other_modes_have_no_parties_and_need_nothing(mode):
    assert express_parties({"mode": mode, "address": None}, None) is None


def test_express_names_the_applicant_and_the_window():
    parties = express_parties({"mode": "express", "address": APPLICANT_ADDRESS}, WINDOW)

    assert parties.applicant == Address(**APPLICANT_ADDRESS)
    assert parties.window.city == "南京市"
    assert parties.window.district == "建邺区"
    assert parties.window.name == WINDOW["name"]


@pytest.mark.parametrize("address", [None, {}])
@pytest.mark.parametrize("window", [None, {}])
def test_express_without_an_address_or_a_window_names_both(address, window):
    with pytest.raises(ValidationFailed) as raised:
        express_parties({"mode": "express", "address": address}, window)
    assert raised.value.fields == {"delivery.address": REQUIRED, "window": REQUIRED}
