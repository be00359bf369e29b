"""What an express application must name before EMS can carry anything for it:
the applicant's address and the handling window."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .exceptions import ValidationFailed
from .model import Address
from .windows import window_address

EXPRESS = "express"
REQUIRED = "required for express delivery"


@dataclass(frozen=True)
class ExpressParties:
    """The two ends of an express application's waybills."""

    applicant: Address
    window: Address


def express_parties(delivery: Mapping, window: object) -> ExpressParties | None:
    """The applicant's and the window's waybill addresses when ``delivery`` is
    express, None for any other mode. ValidationFailed names every problem at
    once, as ``delivery.address[.<field>]`` and ``window[.<field>]``."""
    if delivery.get("mode") != EXPRESS:
        return None
    problems: dict[str, str] = {}
    ends: dict[str, Address] = {}
    address = delivery.get("address")
    if not address:
        problems["delivery.address"] = REQUIRED
    else:
        try:
            ends["applicant"] = Address.from_dict(address, "delivery.address")
        except ValidationFailed as error:
            problems.update(error.fields)
    if not window:
        problems["window"] = REQUIRED
    else:
        try:
            ends["window"] = window_address(window)
        except ValidationFailed as error:
            problems.update(error.fields)
    if problems:
        raise ValidationFailed(problems)
    return ExpressParties(**ends)
