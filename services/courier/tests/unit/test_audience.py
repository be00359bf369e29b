"""Who may see a shipment."""

import pytest

from services.courier.domain.audience import Audience


@pytest.mark.parametrize(
    ("kind", "user_id", "department", "applicant", "owner_department", "sees"),
    [
        ("citizen", "u-1", None, "u-1", "dept-a", True),
        ("citizen", "u-1", "dept-a", "u-2", "dept-a", False),
        ("staff", "u-9", "dept-a", "u-1", "dept-a", True),
        ("staff", "u-9", "dept-a", "u-1", "dept-b", False),
        ("staff", "u-9", None, "u-1", None, False),
        ("operator", "u-0", None, "u-1", "dept-b", True),
        ("robot", "u-1", "dept-a", "u-1", "dept-a", False),
    ],
)
def test_sees(kind, user_id, department, applicant, owner_department, sees):
    assert Audience.of(kind, user_id, department).sees(applicant, owner_department) is sees


def test_a_staff_member_without_a_department_sees_nothing():
    assert Audience.of("staff", "u-9", None).sees_nothing
    assert not Audience.of("operator", "u-0", None).sees_nothing
