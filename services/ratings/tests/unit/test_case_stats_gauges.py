"""Today's case data and the cases waiting for their submission, as the
scrape-time gauges read them; "today" is the process clock's China day."""

from datetime import UTC, datetime

import pytest

from services.common import clock
from services.common.testing import delivered, envelope
from services.ratings.service_layer import indicators
from services.ratings.service_layer.gauges import gauges
from services.workflow import contract as workflow

MEASURES = (
    "submitted",
    "accepted",
    "completed",
    "completed_on_time",
    "denied",
    "rejected",
    "not_supplemented",
    "withdrawn",
    "overdue",
    "ems",
)


def reading(uow, name):
    [found] = [reading for reading in gauges(lambda: uow, "ratings") if reading.name == name]
    return found


def submitted_now(application_id):
    payload = {
        "application_id": application_id,
        "item_id": "item-1",
        "item_name": "食品经营许可",
        "applicant_id": "u-applicant",
        "department_code": "320100-MSA",
        "region_code": "320102",
        "store_id": "store-1",
        "delivery": {"mode": "online", "address": None},
        "window": None,
        "due_date": "2026-12-09",
        "submitted_at": clock.now().isoformat(),
    }
    return delivered(
        envelope("workflow", "application_submitted", payload), workflow.ApplicationSubmitted
    )


@pytest.fixture
def moved_clock(tmp_path):
    """The process clock moved by days (as drills and end-to-end tests move it)."""
    offset = tmp_path / "clock-offset"

    def move(days: float) -> None:
        offset.write_text(str(days))
        clock.configure(offset)

    yield move
    clock.configure(None)


def test_every_measure_of_today_is_read_zero_when_none(uow):
    cases = reading(uow, "tongban_ratings_cases_today")

    assert cases.labels == ("measure",)
    assert dict(cases.read()) == {(measure,): 0 for measure in MEASURES}


def test_todays_cases_are_read_by_measure(uow):
    indicators.record_case_submitted(uow, submitted_now("app-1"))
    indicators.record_case_submitted(uow, submitted_now("app-2"))
    indicators.record_case_accepted(
        uow,
        delivered(
            envelope(
                "workflow",
                "application_accepted",
                {"application_id": "app-1", "accepted_at": clock.now().isoformat()},
            ),
            workflow.ApplicationAccepted,
        ),
    )

    read = dict(reading(uow, "tongban_ratings_cases_today").read())

    assert (read[("submitted",)], read[("accepted",)], read[("completed",)]) == (2, 1, 0)


def test_today_follows_the_process_clock(uow, moved_clock):
    indicators.record_case_submitted(uow, submitted_now("app-1"))
    cases = reading(uow, "tongban_ratings_cases_today")
    assert dict(cases.read())[("submitted",)] == 1

    moved_clock(1)

    assert dict(cases.read())[("submitted",)] == 0
    assert indicators.cases_today(uow).submitted == 0
    assert indicators.cases_today(uow, now=datetime.now(UTC)).submitted == 1


def test_cases_waiting_for_their_submission_are_read(uow):
    waiting = reading(uow, "tongban_ratings_cases_pending")
    assert waiting.read() == [((), 0)]

    indicators.record_case_overdue(
        uow,
        delivered(
            envelope(
                "workflow", "case_overdue", {"application_id": "app-9", "due_date": "2026-11-24"}
            ),
            workflow.CaseOverdue,
        ),
    )
    assert waiting.read() == [((), 1)]

    indicators.record_case_submitted(uow, submitted_now("app-9"))
    assert waiting.read() == [((), 0)]
