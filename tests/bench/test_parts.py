"""The bench's pure parts: its ID numbers, phones and names, percentiles and windows."""

import math
import os
import random
from datetime import date

import pytest

from services.identity.contract import PHONE
from services.identity.domain.id_numbers import birth_date_of, validate_id_number
from tests.bench import people
from tests.bench.stats import Window, percentile


def test_check_char_of_the_standard_examples():
    # GB 11643-1999's own example, and one whose check character is X.
    assert people.check_char("11010519491231002") == "X"
    assert people.check_char("44052418800101001") == "4"
    with pytest.raises(ValueError):
        people.check_char("1101051949123100")


def test_id_numbers_pass_identity_and_are_adults_of_jiangsu():
    rng = random.Random(7)
    today = date(2026, 6, 1)
    numbers = [people.id_number(rng, today) for _ in range(2000)]
    for number in numbers:
        assert validate_id_number(number, today=today) == number
        assert number.startswith("32")
        assert date(1950, 1, 1) <= birth_date_of(number) <= date(2005, 12, 31)
    assert len(set(numbers)) > 1990  # collisions are rare; setup draws again on 409
    assert any(number.endswith("X") for number in numbers)


def test_phones_and_names_have_the_shapes_identity_takes():
    rng = random.Random(3)
    for _ in range(500):
        phone = people.phone(rng)
        assert PHONE.regex.fullmatch(phone)
        assert not phone.startswith(("137", "138", "139"))  # the demo accounts' ranges
        assert 2 <= len(people.name(rng)) <= 3


def test_percentile_is_nearest_rank():
    values = list(range(1, 101))  # 1..100
    assert percentile(values, 0.5) == 50
    assert percentile(values, 0.99) == 99
    assert percentile(values, 1.0) == 100
    assert percentile(reversed(values), 0.01) == 1
    assert percentile([7.0], 0.99) == 7.0
    assert percentile([3, 1, 2], 0.5) == 2
    assert math.isnan(percentile([], 0.5))
    with pytest.raises(ValueError):
        percentile(values, 0)


def test_window_counts_what_happened_inside_it():
    window = Window(10.0, 14.0)
    assert window.seconds == 4.0
    assert window.holds(10.0) and window.holds(13.999)
    assert not window.holds(9.99) and not window.holds(14.0)
    assert window.rate([9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0]) == 1.0


def test_cores_used_between_two_readings(monkeypatch):
    from tests.bench import cpu

    monkeypatch.setattr(cpu.os, "cpu_count", lambda: 2)
    hertz = os.sysconf("SC_CLK_TCK")
    first = cpu.Reading(100.0, (1000, 4000), {"cluster": 0, "load generator": 0})
    # 10 s later: 1,500 of 2,000 ticks busy (1.5 of 2 cores); the cluster used
    # 10 s of CPU (1 core), the load generator 1 s (0.1 core).
    second = cpu.Reading(110.0, (2500, 6000), {"cluster": 10 * hertz, "load generator": hertz})
    used = cpu.cores_used(first, second)
    assert used == pytest.approx({"machine": 1.5, "cluster": 1.0, "load generator": 0.1})
    assert cpu.describe(used).endswith("load generator 0.10, everything else 0.40")
    assert cpu.cores_used(cpu.Reading(0.0, None, {}), second) is None


def test_a_process_started_or_gone_in_the_window_counts_only_its_window():
    from tests.bench import cpu

    first = {"PostgreSQL": {10: 500, 11: 300}, "RabbitMQ": {20: 1000}}
    # 11 closed its connection (gone), 12 is a connection opened meanwhile.
    second = {"PostgreSQL": {10: 650, 12: 40}, "RabbitMQ": {20: 1100}}
    assert cpu.window_ticks(first, second) == {"PostgreSQL": 190, "RabbitMQ": 100}


def test_searches_at_scale_are_distinct():
    from tests.bench.scale import search_queries

    regions = ["320000", "320100", "320115", "320500", "320583"]
    queries = search_queries(regions)
    assert len(queries) == 200
    assert len({(q["q"], q["region"], q["page"]) for q in queries}) == 200
    assert {q["region"] for q in queries} == set(regions)


def test_profile_summary_counts_own_and_inclusive_samples():
    from tests.bench.profile import summarise

    lines = summarise(
        [
            "main (a.py:1);handle (a.py:5);encode (json.py:9) 6",
            "main (a.py:1);handle (a.py:5) 2",
            "main (a.py:1);log (b.py:3) 2",
            "garbage",
        ]
    )
    assert lines[0].startswith("10 samples")
    own = lines[lines.index("own:") + 1 : lines.index("inclusive:")]
    assert own[0].split() == ["60.0%", "encode", "(json.py:9)"]
    inclusive = lines[lines.index("inclusive:") + 1 :]
    assert inclusive[0].split() == ["100.0%", "main", "(a.py:1)"]
    assert inclusive[1].split() == ["80.0%", "handle", "(a.py:5)"]
