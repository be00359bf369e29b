"""Measures the search index in process at the province's scale.

    .venv/bin/python -m gateway.tests.measure_search [--items 75000] [--queries 200]

Builds a :class:`gateway.search.SearchIndex` from the synthetic catalogue
(``gateway.tests.synthetic_catalogue``) as the gateway loads it, then times
distinct searches (a word, a region, a page, sometimes a filter) and prints
the build time, the memory the index holds and p50/p95/max of the searches.
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import time

from gateway.search import SearchIndex
from gateway.tests import synthetic_catalogue

WORDS = (
    "营业执照",
    "食品",
    "许可",
    "驾照",
    "身份证",
    "社保",
    "公积金",
    "户口",
    "结婚证",
    "护照",
    "登记",
    "注销",
    "补领",
    "变更",
    "yyzz",
    "spjy",
    "jsz",
    "执照 变更",
    "核发",
    "排污",
    "不动产",
    "居住证",
    "老年人",
    "失业",
    "港澳",
    "采矿",
    "备案",
    "审批",
    "电子证照",
    "企业",
    "在线申请",
    "邮寄",
    "service item 12",
    "320500",
    "个体工商户",
    "医师",
    "教师资格",
    "证",
)


def _resident_bytes() -> int:
    with open("/proc/self/statm") as handle:
        pages = int(handle.read().split()[1])
    return pages * 4096


def build(items: int) -> tuple[SearchIndex, float, int]:
    payloads = list(synthetic_catalogue.payloads(items))
    gc.collect()
    before = _resident_bytes()
    started = time.perf_counter()
    index = SearchIndex()
    index.set_regions(synthetic_catalogue.regions())
    mark = index.begin_load()
    exported = set()
    for payload in payloads:
        index.publish(dict(payload))
        exported.add(payload["item_id"])
    index.finish_load(mark, exported)
    seconds = time.perf_counter() - started
    del payloads, exported
    gc.collect()
    return index, seconds, _resident_bytes() - before


def queries(count: int, seed: int = 7) -> list[dict]:
    rng = random.Random(seed)
    regions = [r["code"] for r in synthetic_catalogue.regions()]
    out, seen = [], set()
    while len(out) < count:
        query = {"q": rng.choice(WORDS), "page": rng.choice((1, 1, 1, 2, 3, 5)), "page_size": 20}
        if rng.random() < 0.7:
            query["region"] = rng.choice(regions)
        if rng.random() < 0.15:
            query["mode"] = "online"
        if rng.random() < 0.1:
            query["level"] = rng.choice(("province", "city", "county"))
        if rng.random() < 0.1:
            query.pop("q")
        key = tuple(sorted(query.items()))
        if key not in seen:
            seen.add(key)
            out.append(query)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=75_000)
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    index, seconds, memory = build(args.items)
    started = time.perf_counter()
    index.layout()
    layout = time.perf_counter() - started
    timings, cpu = [], []
    for query in queries(args.queries):
        started, started_cpu = time.perf_counter(), time.thread_time()
        index.search(**query)
        timings.append((time.perf_counter() - started) * 1000)
        cpu.append((time.thread_time() - started_cpu) * 1000)
    timings.sort()
    cpu.sort()
    p95 = timings[max(0, int(len(timings) * 0.95) - 1)]
    print(f"items indexed      {len(index)}")
    print(f"build              {seconds:.2f} s (a layout alone {layout:.2f} s)")
    print(f"resident memory    {memory / 2**20:.1f} MiB (the index, measured as RSS growth)")
    print(
        f"search ms          p50 {statistics.median(timings):.2f}  p95 {p95:.2f}"
        f"  max {timings[-1]:.2f}  over {len(timings)} distinct queries"
    )
    # CPU time alone: what the figures are without other processes' load.
    print(
        f"search CPU ms      p50 {statistics.median(cpu):.2f}"
        f"  p95 {cpu[max(0, int(len(cpu) * 0.95) - 1)]:.2f}  max {cpu[-1]:.2f}"
    )


if __name__ == "__main__":
    main()
