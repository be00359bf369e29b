import json
import logging
import sys

from services.common import logs


def record(message, *args, exc_info=None, **extra):
    record = logging.LogRecord("tongban.test", logging.INFO, __file__, 1, message, args, exc_info)
    for key, value in extra.items():
        setattr(record, key, value)
    return record


def test_a_line_is_json_with_the_service_and_the_correlation_id():
    formatter = logs.JsonFormatter("workflow")
    token = logs.correlation_id.set("c0ffee")
    try:
        line = json.loads(formatter.format(record("case %s accepted", "a-1", attempt=2)))
    finally:
        logs.correlation_id.reset(token)
    assert line["service"] == "workflow"
    assert line["message"] == "case a-1 accepted"
    assert line["correlation_id"] == "c0ffee"
    assert line["attempt"] == 2
    assert line["level"] == "info"


def test_id_numbers_never_reach_a_log_line():
    formatter = logs.JsonFormatter("identity")
    try:
        raise ValueError("bad 32010219900307123X")
    except ValueError:
        exc_info = sys.exc_info()
    text = formatter.format(
        record("verifying 110105194912310021", exc_info=exc_info, given="32010219900307123x")
    )
    assert "110105194912310021" not in text
    assert "32010219900307123X" not in text and "32010219900307123x" not in text
    line = json.loads(text)
    assert line["message"] == "verifying 1101**********0021"
    assert line["given"] == "3201**********123x"


def test_longer_digit_runs_are_not_mistaken_for_id_numbers():
    assert logs.redact("order 12345678901234567890") == "order 12345678901234567890"
