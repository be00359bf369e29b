"""The handling window as a party on an EMS waybill.

The catalogue describes a window as ``{name, address, phone, postcode}`` with
the address as one line ("南京市建邺区江东中路265号南京市民中心"); a waybill needs
the address split into province, city, district and street. Every window is in
Jiangsu, so the province is fixed and the city and district are read from the
start of the line.
"""

from __future__ import annotations

import re

from .exceptions import ValidationFailed
from .model import Address

PROVINCE = "江苏省"

# City (prefecture or county-level city), then the district, county, town or
# subdistrict; the rest of the line is the street address.
_ADDRESS_LINE = re.compile(
    r"(?:江苏省)?"
    r"(?P<city>[^\d市]{1,8}市)"
    r"(?P<district>[^\d路街号市]{1,8}?(?:区|县|市|镇|街道))?"
    r"(?P<street>.+)"
)


def window_address(window: object, path: str = "window") -> Address:
    """The waybill address of a catalogue window; ValidationFailed names each
    problem as ``<path>.<field>``."""
    if not isinstance(window, dict):
        raise ValidationFailed({path: "must be an object"})
    line = window.get("address")
    if not isinstance(line, str) or not line.strip():
        raise ValidationFailed({f"{path}.address": "required"})
    match = _ADDRESS_LINE.fullmatch(line.strip())
    if match is None:
        raise ValidationFailed({f"{path}.address": "must start with the city, such as 南京市"})
    city = match["city"]
    return Address.from_dict(
        {
            "name": window.get("name"),
            "phone": window.get("phone"),
            "province": PROVINCE,
            "city": city,
            # A street straight after the city (no district named) is in the
            # city's own districts; EMS needs the field filled either way.
            "district": match["district"] or city,
            "street": match["street"],
            "postcode": window.get("postcode"),
        },
        path,
    )
