"""Use cases of development zones and their regional assessments (区域评).

A zone is run by its committee department (kind ``zone_committee``); an
operator or a dept_admin of that committee records the zone's reports and
reads them. Workflow asks ``find_assessment`` whether a zone's report of a
kind covers a project on a day. Same conventions as ``use_cases``: one
transaction each, answers are the contract's.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy.exc import IntegrityError

from services.catalog.domain.exceptions import ValidationFailed
from services.catalog.domain.model import ZONE_COMMITTEE
from services.catalog.domain.zones import Assessment, Zone, covering
from services.catalog.service_layer.authorisation import DEPT_ADMIN, OPERATOR
from services.catalog.service_layer.unit_of_work import CatalogUnitOfWork
from services.catalog.service_layer.use_cases import zone_id_for
from services.common.errors import Conflict, Forbidden, Invalid, NotFound


def zone_view(zone: Zone) -> dict:
    return {
        "zone_id": zone.zone_id,
        "code": zone.code,
        "name": zone.name,
        "region_code": zone.region_code,
        "committee_department_code": zone.committee_department_code,
    }


def _is_operator(actor: Mapping) -> bool:
    return actor.get("kind") == OPERATOR


def _admin_department(actor: Mapping) -> str | None:
    """The department a staff actor administers, or None."""
    if actor.get("kind") == "staff" and DEPT_ADMIN in (actor.get("roles") or ()):
        return actor.get("department_code") or None
    return None


def _authorise(actor: Mapping, committee_department_code: str) -> None:
    """An operator, or a dept_admin of the zone's committee department."""
    if _is_operator(actor) or _admin_department(actor) == committee_department_code:
        return
    raise Forbidden(
        f"only an operator or an administrator of {committee_department_code} may do this"
    )


def _zone(uow: CatalogUnitOfWork, zone_id: str) -> Zone:
    zone = uow.zones.get(zone_id)
    if zone is None:
        raise NotFound(f"no zone {zone_id}", {"zone_id": "unknown zone"})
    return zone


def create_zone(
    uow: CatalogUnitOfWork,
    actor: Mapping,
    code: str,
    name: str,
    committee_department_code: str,
    region_code: str | None = None,
) -> dict:
    """Add a development zone run by ``committee_department_code`` (a department
    of kind zone_committee), in ``region_code`` (a county; default the
    committee's region). The zone id follows from the code."""
    _authorise(actor, committee_department_code)
    with uow:
        committee = uow.departments.get(committee_department_code)
        problems: dict[str, str] = {}
        if committee is None:
            problems["committee_department_code"] = "unknown department"
        elif committee.kind != ZONE_COMMITTEE:
            problems["committee_department_code"] = (
                f"must be a zone committee; {committee.code} is a {committee.kind}"
            )
        region_code = region_code or (committee.region_code if committee else None)
        if region_code is not None:
            region = uow.regions.get(region_code)
            if region is None:
                problems["region_code"] = "unknown region"
            elif region.level != "county":
                problems["region_code"] = "a zone lies inside a county"
        zone = None
        try:
            zone = Zone.create(
                zone_id_for(code) if isinstance(code, str) else "",
                code,
                name,
                region_code or "",
                committee_department_code,
            )
        except ValidationFailed as failure:
            problems = {**failure.fields, **problems}
        if problems:
            raise Invalid("invalid input", problems)
        taken = Conflict(f"a zone with code {zone.code} exists", {"code": "already in use"})
        if zone.code in uow.zones.codes():
            raise taken
        try:
            uow.zones.add(zone)
            uow.commit()
        except IntegrityError as race:
            raise taken from race
        return zone_view(zone)


def list_zones(
    uow: CatalogUnitOfWork,
    actor: Mapping,
    region: str | None = None,
    page: int = 1,
    page_size: int = 20,
) -> dict:
    """Zones in code order: every zone for an operator, its own zones for a
    dept_admin of a zone committee; Forbidden for anyone else."""
    with uow:
        committee = None
        if not _is_operator(actor):
            department = _admin_department(actor)
            known = uow.departments.get(department) if department else None
            if known is None or known.kind != ZONE_COMMITTEE:
                raise Forbidden("zones are listed for operators and zone administrators")
            committee = known.code
        if region is not None and uow.regions.get(region) is None:
            raise Invalid("unknown filter value", {"region": "unknown region"})
        zones, total = uow.zones.page(
            committee_department_code=committee,
            region=region,
            offset=(page - 1) * page_size,
            limit=page_size,
        )
        return {
            "items": [zone_view(zone) for zone in zones],
            "page": page,
            "page_size": page_size,
            "total": total,
        }


def record_assessment(
    uow: CatalogUnitOfWork,
    actor: Mapping,
    zone_id: str,
    kind: str,
    title: str,
    valid_from: date,
    valid_to: date,
    approved_by: str | None = None,
) -> dict:
    """Record a regional assessment report of the zone."""
    with uow:
        zone = _zone(uow, zone_id)
        _authorise(actor, zone.committee_department_code)
        assessment = Assessment.create(
            uuid.uuid4().hex, zone.zone_id, kind, title, valid_from, valid_to, approved_by
        )
        uow.assessments.add(assessment)
        uow.commit()
        return assessment.to_dict()


def list_assessments(
    uow: CatalogUnitOfWork,
    actor: Mapping,
    zone_id: str,
    kind: str | None = None,
    page: int = 1,
    page_size: int = 20,
) -> dict:
    """The zone's reports (of one kind when given), by kind, the newest first."""
    with uow:
        zone = _zone(uow, zone_id)
        _authorise(actor, zone.committee_department_code)
        found, total = uow.assessments.page(
            zone.zone_id, kind=kind, offset=(page - 1) * page_size, limit=page_size
        )
        return {
            "items": [assessment.to_dict() for assessment in found],
            "page": page,
            "page_size": page_size,
            "total": total,
        }


def find_assessment(uow: CatalogUnitOfWork, zone_id: str, kind: str, on: date) -> dict[str, Any]:
    """``{zone, assessment}``: the zone (null when unknown) and its report of
    ``kind`` valid on ``on`` (null when none is: never made, not yet valid or
    expired). Of several valid reports, the one valid longest."""
    with uow:
        zone = uow.zones.get(zone_id)
        if zone is None:
            return {"zone": None, "assessment": None}
        found = covering(uow.assessments.of_zone(zone.zone_id, kind=kind), kind, on)
        return {
            "zone": zone.summary(),
            "assessment": found.to_dict() if found else None,
        }
