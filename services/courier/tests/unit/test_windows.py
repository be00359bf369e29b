"""Catalogue windows as waybill addresses."""

import pytest

from services.courier.domain.exceptions import ValidationFailed
from services.courier.domain.windows import window_address

WINDOW = {"name": "政务服务窗口", "phone": "025-83330012", "postcode": "210019"}


@pytest.mark.parametrize(
    ("line", "city", "district", "street"),
    [
        (
            "南京市建邺区江东中路311号江苏省政务服务中心二楼",
            "南京市",
            "建邺区",
            "江东中路311号江苏省政务服务中心二楼",
        ),
        ("江苏省南京市鼓楼区扬州路1号", "南京市", "鼓楼区", "扬州路1号"),
        ("苏州市工业园区旺墩路169号", "苏州市", "工业园区", "旺墩路169号"),
        ("昆山市玉山镇前进西路1801号", "昆山市", "玉山镇", "前进西路1801号"),
        ("宜兴市宜城街道解放东路218号", "宜兴市", "宜城街道", "解放东路218号"),
        ("南京市中山路1号市民中心", "南京市", "南京市", "中山路1号市民中心"),
    ],
)
def test_the_address_line_is_split_into_city_district_and_street(line, city, district, street):
    address = window_address({**WINDOW, "address": line})

    assert address.as_dict() == {
        "name": "政务服务窗口",
        "phone": "025-83330012",
        "province": "江苏省",
        "city": city,
        "district": district,
        "street": street,
        "postcode": "210019",
    }


@pytest.mark.parametrize(
    ("window", "field"),
    [
        ({**WINDOW, "address": "江东中路311号"}, "window.address"),
        ({**WINDOW, "address": ""}, "window.address"),
        ({**WINDOW, "address": "南京市建邺区江东中路311号", "phone": "x"}, "window.phone"),
        ({**WINDOW, "address": "南京市建邺区江东中路311号", "postcode": "21"}, "window.postcode"),
        (None, "window"),
    ],
)
def test_a_window_that_cannot_be_shipped_to_is_named(window, field):
    with pytest.raises(ValidationFailed) as raised:
        window_address(window)
    assert field in raised.value.fields
