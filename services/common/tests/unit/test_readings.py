"""Scrape-time gauges: read when scraped, cached for a while, left out on failure."""

import logging
from types import SimpleNamespace

import eventlet
import pytest
import sqlalchemy as sa
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from services.common import metrics
from services.common.dependencies import Database
from services.common.messaging.tables import add_messaging_tables
from services.common.metrics import Reading, ReadingCollector


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


class CountingRead:
    """A reading's ``read``: answers ``samples`` and counts its calls; raises
    ``failure`` instead while it is set."""

    def __init__(self, samples):
        self.samples = samples
        self.calls = 0
        self.failure = None

    def __call__(self):
        self.calls += 1
        if self.failure is not None:
            raise self.failure
        return self.samples


def cases_reading(read, name="tongban_test_cases"):
    return Reading(name, "Cases per state.", ("service", "state"), read)


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def collector(clock):
    return ReadingCollector(clock=clock)


def scrape(collector) -> dict:
    """{metric name: {labels as a sorted tuple of pairs: value}} as Prometheus sees it."""
    registry = CollectorRegistry()
    registry.register(collector)
    text = generate_latest(registry).decode()
    return {
        family.name: {tuple(sorted(s.labels.items())): s.value for s in family.samples}
        for family in text_string_to_metric_families(text)
    }


def test_a_reading_is_read_at_scrape_time_with_its_labels(collector):
    read = CountingRead([(("workflow", "submitted"), 3), (("workflow", "accepted"), 0)])
    collector.register("owner", [cases_reading(read)])
    assert read.calls == 0

    assert scrape(collector) == {
        "tongban_test_cases": {
            (("service", "workflow"), ("state", "submitted")): 3.0,
            (("service", "workflow"), ("state", "accepted")): 0.0,
        }
    }
    assert read.calls == 1


def test_a_reading_is_cached_for_max_age_then_read_again(collector, clock):
    read = CountingRead([(("workflow", "submitted"), 3)])
    collector.register("owner", [cases_reading(read)], max_age=15)
    key = (("service", "workflow"), ("state", "submitted"))

    assert scrape(collector)["tongban_test_cases"][key] == 3.0
    read.samples = [(("workflow", "submitted"), 4)]
    clock.now += 14.9
    assert scrape(collector)["tongban_test_cases"][key] == 3.0
    assert scrape(collector)["tongban_test_cases"][key] == 3.0
    assert read.calls == 1

    clock.now += 0.1
    assert scrape(collector)["tongban_test_cases"][key] == 4.0
    assert read.calls == 2


def test_max_age_zero_reads_on_every_scrape(collector):
    read = CountingRead([((), 1)])
    collector.register("owner", [Reading("tongban_test_rate", "A rate.", (), read)], max_age=0)

    for _ in range(3):
        assert scrape(collector) == {"tongban_test_rate": {(): 1.0}}
    assert read.calls == 3


def test_concurrent_scrapes_share_one_read(collector):
    calls = []

    def slow_read():
        calls.append(1)
        eventlet.sleep(0.05)  # a query in flight; the other scrape arrives meanwhile
        return [(("workflow", "submitted"), 2)]

    collector.register("owner", [cases_reading(slow_read)])
    scrapes = [eventlet.spawn(scrape, collector) for _ in range(3)]
    results = [thread.wait() for thread in scrapes]

    assert len(calls) == 1
    assert all(
        result == {"tongban_test_cases": {(("service", "workflow"), ("state", "submitted")): 2.0}}
        for result in results
    )


def test_a_failing_reading_is_left_out_and_logged_the_others_stay(collector, clock, caplog):
    broken = CountingRead([((), 0.5)])
    broken.failure = RuntimeError("could not connect to server")
    working = CountingRead([(("workflow", "submitted"), 3)])
    collector.register(
        "owner",
        [Reading("tongban_test_rate", "A rate.", (), broken), cases_reading(working)],
        max_age=15,
    )

    with caplog.at_level(logging.WARNING, logger="services.common.metrics"):
        scraped = scrape(collector)

    assert scraped == {
        "tongban_test_cases": {(("service", "workflow"), ("state", "submitted")): 3.0}
    }
    [record] = caplog.records
    assert record.levelno == logging.WARNING
    assert record.metric == "tongban_test_rate"
    assert "could not connect to server" in caplog.text

    # The failure is remembered as long as a value would be: no retry on every scrape.
    assert "tongban_test_rate" not in scrape(collector)
    assert broken.calls == 1
    broken.failure = None
    clock.now += 15
    assert scrape(collector)["tongban_test_rate"] == {(): 0.5}
    assert broken.calls == 2


def test_a_reading_with_no_samples_shows_no_sample(collector):
    collector.register("owner", [Reading("tongban_test_rate", "A rate.", (), lambda: [])])

    assert scrape(collector) == {"tongban_test_rate": {}}


def test_readings_of_the_same_gauge_from_two_owners_make_one_family(collector):
    collector.register("shared", [cases_reading(lambda: [(("workflow", "submitted"), 3)])])
    collector.register("js-ga", [cases_reading(lambda: [(("workflow-js-ga", "submitted"), 1)])])

    assert scrape(collector) == {
        "tongban_test_cases": {
            (("service", "workflow"), ("state", "submitted")): 3.0,
            (("service", "workflow-js-ga"), ("state", "submitted")): 1.0,
        }
    }


def test_the_same_gauge_with_other_labels_is_refused(collector):
    collector.register("shared", [cases_reading(lambda: [])])

    with pytest.raises(ValueError, match="tongban_test_cases"):
        collector.register(
            "other", [Reading("tongban_test_cases", "Cases.", ("state",), lambda: [])]
        )


def test_registering_again_replaces_and_unregistering_removes(collector):
    collector.register("owner", [cases_reading(lambda: [(("workflow", "submitted"), 3)])])
    collector.register("owner", [cases_reading(lambda: [(("workflow", "submitted"), 5)])])

    assert scrape(collector) == {
        "tongban_test_cases": {(("service", "workflow"), ("state", "submitted")): 5.0}
    }

    collector.unregister("owner")
    assert scrape(collector) == {}


def messaging_metadata() -> sa.MetaData:
    metadata = sa.MetaData()
    add_messaging_tables(metadata)
    return metadata


class Cases:
    """A stand-in unit of work class; the Database dependency reads its outbox table."""

    metadata = messaging_metadata()

    def __init__(self, session_factory, source, config, **_):
        self.session_factory = session_factory
        self.source = source
        self.config = config


class Container(SimpleNamespace):
    """What the Database dependency uses of a nameko container (which it holds
    by a weak reference)."""


def test_the_database_dependency_serves_its_gauges_while_the_container_runs(tmp_path, monkeypatch):
    # The outbox would stay registered for the rest of the test process.
    monkeypatch.setattr(metrics, "register_outbox", lambda service, relay: None)
    built = []

    def gauges(new_uow, service):
        def read():
            uow = new_uow()
            built.append(uow)
            return [((service, uow.source), 7)]

        return [Reading("tongban_test_database_cases", "Cases.", ("service", "source"), read)]

    container = Container(
        service_name="workflow-js-ga",
        config={"DATABASE_URL": f"sqlite:///{tmp_path / 'cases.db'}", "METRICS_READ_SECONDS": 60},
    )
    database = Database(Cases, relay=False, source="workflow", gauges=gauges).bind(container, "uow")
    database.setup()
    sample = ("tongban_test_database_cases", {"service": "workflow-js-ga", "source": "workflow"})

    assert metrics.REGISTRY.get_sample_value(*sample) == 7.0
    assert metrics.REGISTRY.get_sample_value(*sample) == 7.0
    assert len(built) == 1  # cached for METRICS_READ_SECONDS
    assert built[0].session_factory is database.session_factory

    database.stop()
    assert metrics.REGISTRY.get_sample_value(*sample) is None
