"""区域评: development zones, their regional assessments, who may record and
read them, and which report covers a project on a day."""

from datetime import date

import pytest

from services.catalog.domain.exceptions import ValidationFailed
from services.catalog.domain.zones import Assessment, covering
from services.catalog.service_layer import zones
from services.catalog.service_layer.use_cases import zone_id_for
from services.common.errors import Conflict, Forbidden, Invalid, NotFound

from .conftest import AMR_ADMIN, BUREAU_ADMIN, CITIZEN, OPERATOR, ZONE_ADMIN, staff

JIANGNING = zone_id_for("320115-JNKFQ")
ZONE_CLERK = staff("u-kfq-clerk", "jn-kfq", "window_clerk")
NEW = {"code": "320115-BJ", "name": "江宁滨江经济开发区", "committee_department_code": "jn-kfq"}
REPORT = {
    "kind": "soil_and_water",
    "title": "区域水土保持方案",
    "valid_from": date(2026, 1, 1),
    "valid_to": date(2028, 12, 31),
}


def test_the_demo_zone_has_a_valid_environmental_report_and_an_expired_flood_one(uow):
    today = date(2026, 12, 1)
    found = zones.find_assessment(uow, JIANGNING, "environmental_impact", today)
    assert found["zone"] == {
        "zone_id": JIANGNING,
        "name": "南京江宁经济技术开发区",
        "region_code": "320115",
    }
    report = found["assessment"]
    assert (report["kind"], report["approved_by"]) == ("environmental_impact", "南京市生态环境局")
    assert report["valid_from"] <= today <= report["valid_to"]
    expired = zones.find_assessment(uow, JIANGNING, "flood_impact", today)
    assert expired["zone"]["zone_id"] == JIANGNING and expired["assessment"] is None
    # valid while it was
    assert zones.find_assessment(uow, JIANGNING, "flood_impact", date(2026, 2, 28))["assessment"]
    assert zones.find_assessment(uow, JIANGNING, "seismic_safety", today)["assessment"] is None


def test_an_unknown_zone_is_named_null_not_an_error(uow):
    assert zones.find_assessment(uow, "nowhere", "flood_impact", date(2026, 12, 1)) == {
        "zone": None,
        "assessment": None,
    }


def test_the_zone_admin_records_reports_and_reads_them_back(uow):
    zone = zones.create_zone(uow, ZONE_ADMIN, **NEW)
    assert zone == {
        "zone_id": zone_id_for("320115-BJ"),
        "code": "320115-BJ",
        "name": "江宁滨江经济开发区",
        "region_code": "320115",  # the committee's county
        "committee_department_code": "jn-kfq",
    }
    first = zones.record_assessment(uow, ZONE_ADMIN, zone["zone_id"], **REPORT)
    renewed = zones.record_assessment(
        uow,
        OPERATOR,
        zone["zone_id"],
        **{**REPORT, "valid_from": date(2028, 6, 1), "valid_to": date(2033, 5, 31)},
        approved_by="江苏省水利厅",
    )
    assert first["approved_by"] is None and renewed["approved_by"] == "江苏省水利厅"
    page = zones.list_assessments(uow, ZONE_ADMIN, zone["zone_id"], page_size=1)
    assert page["total"] == 2 and [a["assessment_id"] for a in page["items"]] == [
        renewed["assessment_id"]
    ]
    # while both are valid, the one valid longer covers
    both = zones.find_assessment(uow, zone["zone_id"], "soil_and_water", date(2028, 7, 1))
    assert both["assessment"]["assessment_id"] == renewed["assessment_id"]
    early = zones.find_assessment(uow, zone["zone_id"], "soil_and_water", date(2027, 1, 1))
    assert early["assessment"]["assessment_id"] == first["assessment_id"]
    assert zones.list_assessments(uow, OPERATOR, JIANGNING, kind="flood_impact")["total"] == 1


def test_zones_are_listed_for_operators_all_and_for_a_committee_its_own(uow):
    zones.create_zone(uow, OPERATOR, **NEW)
    assert zones.list_zones(uow, OPERATOR)["total"] == 2
    assert zones.list_zones(uow, OPERATOR, region="320102")["total"] == 0
    own = zones.list_zones(uow, ZONE_ADMIN, page_size=1)
    assert own["total"] == 2 and len(own["items"]) == 1
    with pytest.raises(Invalid) as failure:
        zones.list_zones(uow, OPERATOR, region="000000")
    assert failure.value.fields == {"region": "unknown region"}


@pytest.mark.parametrize("actor", [AMR_ADMIN, BUREAU_ADMIN, ZONE_CLERK, CITIZEN])
def test_only_an_operator_or_the_zones_admin_may_act(uow, actor):
    with pytest.raises(Forbidden):
        zones.list_zones(uow, actor)
    with pytest.raises(Forbidden):
        zones.create_zone(uow, actor, **NEW)
    with pytest.raises(Forbidden):
        zones.record_assessment(uow, actor, JIANGNING, **REPORT)
    with pytest.raises(Forbidden):
        zones.list_assessments(uow, actor, JIANGNING)
    assert zones.list_assessments(uow, OPERATOR, JIANGNING)["total"] == 2


def test_an_unknown_zone_is_not_found(uow):
    with pytest.raises(NotFound):
        zones.record_assessment(uow, OPERATOR, "nowhere", **REPORT)
    with pytest.raises(NotFound):
        zones.list_assessments(uow, ZONE_ADMIN, "nowhere")


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({"committee_department_code": "jn-xzsp"}, {"committee_department_code"}),
        ({"committee_department_code": "jn-nowhere"}, {"committee_department_code"}),
        ({"region_code": "320100"}, {"region_code"}),
        ({"region_code": "999999"}, {"region_code"}),
        ({"code": "bad code", "name": " "}, {"code", "name"}),
    ],
)
def test_a_bad_zone_is_refused_naming_the_fields(uow, changes, fields):
    with pytest.raises(Invalid) as failure:
        zones.create_zone(uow, OPERATOR, **{**NEW, **changes})
    assert set(failure.value.fields) == fields


def test_a_zone_code_is_taken_once(uow):
    with pytest.raises(Conflict) as failure:
        zones.create_zone(uow, OPERATOR, **{**NEW, "code": "320115-JNKFQ"})
    assert failure.value.fields == {"code": "already in use"}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"kind": "noise"}, "kind"),
        ({"title": ""}, "title"),
        ({"valid_to": date(2025, 12, 31)}, "valid_to"),
        ({"valid_from": "2026-01-01"}, "valid_from"),
        ({"approved_by": ""}, "approved_by"),
    ],
)
def test_a_bad_report_is_refused_naming_the_field(uow, changes, field):
    with pytest.raises(ValidationFailed) as failure:
        zones.record_assessment(uow, OPERATOR, JIANGNING, **{**REPORT, **changes})
    assert list(failure.value.fields) == [field]
    assert zones.list_assessments(uow, OPERATOR, JIANGNING)["total"] == 2


def test_covering_takes_both_ends_of_the_period():
    report = Assessment("a", "z", "energy_saving", "节能", date(2026, 1, 1), date(2026, 12, 31))
    assert covering([report], "energy_saving", date(2026, 1, 1)) is report
    assert covering([report], "energy_saving", date(2026, 12, 31)) is report
    assert covering([report], "energy_saving", date(2027, 1, 1)) is None
    assert covering([report], "flood_impact", date(2026, 6, 1)) is None
