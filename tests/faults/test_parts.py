"""The fault suite's own rules, without a cluster: what "flat" means, which
answers count against a scenario, and the table."""

from tests.faults import report
from tests.faults.invariants import Verdict, check_http
from tests.faults.load import Request
from tests.faults.scenarios import Series, is_flat


def test_flat_is_the_last_quarter_within_a_fifth_of_the_second():
    assert is_flat(100.0, 119.0)
    assert is_flat(100.0, 81.0)
    assert not is_flat(100.0, 121.0)
    assert is_flat(10.0, 13.0, slack=2)  # connections get a little slack
    assert not is_flat(10.0, 15.0, slack=2)


def test_quarter_means_skip_the_first_quarter():
    series = Series([1000.0, 1000.0, 10.0, 10.0, 12.0, 12.0, 11.0, 11.0])
    assert series.quarter_means() == (10.0, 11.0)
    assert Series([1.0, 2.0, 3.0]).quarter_means() is None


def request(status: int, at: float, route: str = "submit") -> Request:
    return Request(route, status, at, 5.0)


def test_503_and_504_pass_inside_the_fault_only():
    verdict = Verdict()
    errors = check_http(
        [request(201, 1.0), request(503, 11.0), request(504, 12.0), request(200, 30.0)],
        (10.0, 20.0),
        verdict,
    )
    assert errors == 2
    assert verdict.ok

    verdict = Verdict()
    check_http([request(503, 25.0)], (10.0, 20.0), verdict)
    assert not verdict.ok and "outside the fault" in verdict.failures[0]


def test_a_500_or_no_answer_fails_even_inside_the_fault():
    verdict = Verdict()
    errors = check_http([request(500, 11.0), request(0, 12.0, "read")], (10.0, 20.0), verdict)
    assert errors == 2
    assert "read no answer x1" in verdict.failures[0]
    assert "submit 500 x1" in verdict.failures[0]


def test_a_row_fails_on_anything_lost_duplicated_failed_or_not_recovered():
    assert report.Row(1, "x", recover_seconds=2.0).ok
    assert not report.Row(1, "x", recover_seconds=None).ok
    assert not report.Row(1, "x", recover_seconds=2.0, lost=1).ok
    assert not report.Row(1, "x", recover_seconds=2.0, duplicated=1).ok
    assert not report.Row(1, "x", recover_seconds=2.0, failures=["outbox"]).ok
    assert "FAIL" in report.line(report.Row(1, "x", recover_seconds=None))
