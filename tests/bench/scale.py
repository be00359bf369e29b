"""The bench at the seed's size: search, a guide, the catalogue statistics and
login over the seed's volumes (75,000 items, 1.09 million citizens).

The cluster runs on PostgreSQL databases of its own (``--scale-database``, by
default tongban_bench_scale_<service>), kept between runs: the seed's loader
fills them the first time (a few minutes) and finds everything in place after
(seconds). On the first start the catalogue's events reach every read model
before anything is measured; the cluster's RabbitMQ virtual host is kept too,
so events a stopped run left queued are taken in on the next. Each figure
comes from distinct requests, so no answer comes from a cache: 200 searches (a
word, a region, a page), 200 guides, the statistics, and 200 logins of
different seeded citizens, one at a time.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from pathlib import Path
from urllib.parse import urlparse

import requests
import sqlalchemy as sa

from operations.local_cluster import LocalCluster, per_service_database
from operations.roster import SERVICES
from operations.seed_scale import NotPostgres, require_postgres, seed
from operations.seed_scale import identity as seeded_citizens
from operations.seed_scale.catalog import counties
from operations.seed_scale.volumes import Volumes
from tests.bench.stats import percentile

DEFAULT_DATABASE = "postgresql+psycopg2://postgres@127.0.0.1:5432/tongban_bench_scale"
PORTS = {"identity": 19101, "catalog": 19102, "workflow": 19103, "courier": 19104, "ratings": 19105}
SEEDED = ("catalog", "identity", "courier")
# Kept, like the databases: events still queued when a run stops (the first
# start relays 76,000) reach their read models on the next run.
VIRTUAL_HOST = "tongban-bench-scale"
# Words people search for: parts of item names, whole names, a licence, a field.
WORDS = (
    "许可", "登记", "营业执照", "食品经营", "药品", "社会保障卡", "公积金", "户口", "婚姻",
    "危险化学品", "道路运输", "医疗机构", "排污", "施工许可", "烟草", "律师", "教师资格",
    "残疾人", "退役军人", "消防", "不动产", "采矿", "取水", "农药", "旅行社", "演出",
    "完税", "气象", "档案", "邀请函", "小额贷款", "宗教", "体育", "统计", "医保", "人防",
    "信访", "粮食", "补贴", "处罚", "监督检查", "查封", "注销", "延续", "变更", "补办",
    "备案", "认定", "给付", "表彰",
)  # fmt: skip


def _line(label: str, values: list[float], q: float = 0.95, extra: str = "") -> str:
    name = "p99" if q == 0.99 else "p95"
    return (
        f"{label:40s} n {len(values):4d}  p50 {percentile(values, 0.5):7.1f} ms  "
        f"{name} {percentile(values, q):7.1f} ms  max {max(values):7.1f} ms{extra}"
    )


def search_queries(regions: list[str], count: int = 200) -> list[dict]:
    """``count`` distinct (word, region, page) queries, words and regions in turn."""
    combinations = len(WORDS) * len(regions) * 3
    if count > combinations:
        raise ValueError(f"only {combinations} distinct queries")
    queries = []
    for index in range(count):
        word = WORDS[index % len(WORDS)]
        region = regions[(index // len(WORDS) + index) % len(regions)]
        page = 1 + index // (len(WORDS) * len(regions)) % 3
        queries.append({"q": word, "region": region, "page": page, "page_size": 20})
    return queries


def _timed(session: requests.Session, method: str, url: str, **kwargs) -> tuple[float, int]:
    started = time.perf_counter()
    response = session.request(method, url, timeout=30, **kwargs)
    return (time.perf_counter() - started) * 1000, response.status_code


def kept_virtual_host(uri: str) -> str:
    """The URI of the scale cluster's own virtual host, created when missing and
    kept; ``uri`` itself where rabbitmqctl is not at hand or the broker is remote."""
    command = shutil.which("rabbitmqctl")
    if command is None or urlparse(uri).hostname not in ("127.0.0.1", "localhost"):
        return uri
    for args in (
        ["add_vhost", VIRTUAL_HOST],  # fails harmlessly when it exists
        ["set_permissions", "-p", VIRTUAL_HOST, "guest", ".*", ".*", ".*"],
    ):
        subprocess.run(  # noqa: S603  (rabbitmqctl with our own arguments)
            [command, *args], capture_output=True, text=True, timeout=60, check=False
        )
    scheme, _, rest = uri.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}/{VIRTUAL_HOST}"


def _indexed_items(gateway: str) -> int | None:
    """The items in the gateway's search index (its metrics), None when it has no such metric."""
    text = requests.get(f"{gateway}/metrics", timeout=30).text
    found = re.search(r"^tongban_search_index_items (\S+)$", text, re.MULTILINE)
    return int(float(found.group(1))) if found else None


def _wait_for_read_models(gateway: str, catalog_url: str, timeout: float) -> str:
    """Wait until catalog has relayed every event, its statistics count every
    published item and the gateway's search index holds them; what it waited
    for, for the report."""
    engine = sa.create_engine(catalog_url)
    started = time.monotonic()
    try:
        with engine.connect() as connection:
            published = connection.execute(
                sa.text("SELECT count(*) FROM items WHERE status = 'published'")
            ).scalar_one()
        while time.monotonic() - started < timeout:
            with engine.connect() as connection:
                unsent = connection.execute(
                    sa.text("SELECT count(*) FROM outbox WHERE sent_at IS NULL")
                ).scalar_one()
            try:
                stats = requests.get(f"{gateway}/api/v1/stats/catalog", timeout=30).json()
                counted = stats.get("published")
                listed = requests.get(
                    f"{gateway}/api/v1/items", params={"page_size": 1}, timeout=30
                ).json()
                total = listed.get("total")
                indexed = _indexed_items(gateway)
            except (requests.RequestException, ValueError):
                counted = total = indexed = None
            # The search answers from catalog until the gateway's index has loaded.
            searchable = total == published if indexed is None else indexed >= published
            if unsent == 0 and counted == published and searchable:
                time.sleep(2)  # the index computes its pinyin initials after laying out
                return f"{published:,} published items in every read model"
            time.sleep(5)
        return (
            f"read models not complete after {timeout:.0f} s "
            f"(stats {counted}, search {total}, index {indexed} of {published})"
        )
    finally:
        engine.dispose()


def run(data_dir: Path, broker: str, scale: float, database: str, catch_up: float) -> list[str]:
    """Seed (or find seeded) the bench's own databases, start a cluster on them
    (on a virtual host of its own next to ``broker``'s) and measure; the lines
    to print."""
    urls = {
        name: per_service_database(database, name.replace("-", "_"))
        for name in [*SERVICES, "workflow-js-ga"]
    }
    try:
        require_postgres("catalog", urls["catalog"])
        probe = sa.create_engine(sa.engine.make_url(urls["catalog"]).set(database="postgres"))
        try:
            with probe.connect():
                pass
        finally:
            probe.dispose()
    except NotPostgres as exc:
        return [f"at scale: skipped ({exc})"]
    except sa.exc.OperationalError:
        return ["at scale: skipped (PostgreSQL is not reachable; make test's infra starts it)"]
    lines = []
    volumes = Volumes.at(scale)
    started = time.monotonic()
    outcomes = seed({part: urls[part] for part in SEEDED}, volumes, SEEDED, report=_quiet)
    lines.append(
        f"# at scale {scale:g}: seed in {time.monotonic() - started:.1f} s ("
        + "; ".join(outcome.summary() for outcome in outcomes)
        + f"); databases {make_stem(database)}_*"
    )
    cluster = LocalCluster(
        data_dir=data_dir / "scale",
        gateway_port=19000,
        ems_port=19200,
        data_exchange_port=19300,
        sms_port=19400,
        payment_port=19500,
        department_portal_port=19600,
        service_ports=dict(PORTS),
        amqp_uri=kept_virtual_host(broker),
        database_urls=urls,
        extra_env={"LOG_LEVEL": "WARNING", "AUTH_RATE_PER_SECOND": "100000",
                   "AUTH_RATE_BURST": "100000", "PUBLIC_RATE_PER_SECOND": "0"},
    )  # fmt: skip
    try:
        cluster.prepare()
        cluster.start(timeout=300)
        gateway = cluster.gateway_url
        waited = time.monotonic()
        ready = _wait_for_read_models(gateway, urls["catalog"], catch_up)
        lines.append(f"# {ready} (waited {time.monotonic() - waited:.0f} s)")
        lines.extend(measure(gateway, urls["catalog"], volumes))
    finally:
        cluster.stop()
    return lines


def make_stem(url: str) -> str:
    return sa.engine.make_url(url).database or ""


def _quiet(text: str, transient: bool = False) -> None:
    pass


def measure(gateway: str, catalog_url: str, volumes: Volumes) -> list[str]:
    lines = []
    session = requests.Session()
    regions = ["320000", *sorted({c["parent_code"] for c in counties()})]
    regions += [county["code"] for county in counties()]
    for word in ("证明", "申领", "查询"):  # the first requests pay for lazy set-up
        session.get(f"{gateway}/api/v1/items", params={"q": word}, timeout=30)
    latencies, errors, found, timed_queries = [], 0, 0, []
    for query in search_queries(regions):
        started = time.perf_counter()
        response = session.get(f"{gateway}/api/v1/items", params=query, timeout=30)
        latencies.append((time.perf_counter() - started) * 1000)
        timed_queries.append((latencies[-1], query))
        errors += response.status_code != 200
        found += bool(response.ok and response.json().get("items"))
    lines.append(
        _line(
            "search /api/v1/items (200 distinct)",
            latencies,
            extra=f"  errors {errors}, {found} with results",
        )
    )
    slowest = sorted(timed_queries, key=lambda pair: pair[0], reverse=True)[:3]
    lines.append(
        "#   slowest: "
        + "; ".join(
            f"{ms:.0f} ms q={query['q']} region={query['region']} page={query['page']}"
            for ms, query in slowest
        )
    )

    engine = sa.create_engine(catalog_url)
    with engine.connect() as connection:
        ids = connection.execute(
            sa.text(
                "SELECT item_id FROM items WHERE status = 'published' AND basic_code IS NOT NULL"
                " ORDER BY md5(item_id) LIMIT 200"
            )
        ).scalars()
        ids = list(ids)
    engine.dispose()
    timed = [_timed(session, "GET", f"{gateway}/api/v1/items/{item_id}") for item_id in ids]
    errors = sum(status != 200 for _, status in timed)
    lines.append(
        _line("guide /api/v1/items/{id} (200 distinct)", [t for t, _ in timed],
              extra=f"  errors {errors}")
    )  # fmt: skip

    first, status = _timed(session, "GET", f"{gateway}/api/v1/stats/catalog")
    again = [_timed(session, "GET", f"{gateway}/api/v1/stats/catalog")[0] for _ in range(20)]
    lines.append(
        f"{'stats /api/v1/stats/catalog':40s} first {first:7.1f} ms (status {status}), "
        f"then p50 {percentile(again, 0.5):6.1f} ms over 20"
    )

    numbers = [number * 5449 % volumes.citizens for number in range(200)]

    def login(number: int) -> tuple[float, int]:
        with requests.Session() as own:
            body = {"phone": seeded_citizens.phone(number), "password": seeded_citizens.PASSWORD}
            return _timed(own, "POST", f"{gateway}/api/v1/auth/login", json=body)

    # One at a time: a login's own time (argon2 takes cores of its own).
    timed = [login(number) for number in numbers]
    errors = sum(status != 200 for _, status in timed)
    lines.append(
        _line("login /api/v1/auth/login (200 distinct)", [t for t, _ in timed], q=0.99,
              extra=f"  errors {errors}")
    )  # fmt: skip
    return lines
