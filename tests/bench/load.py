"""A small closed-loop HTTP load generator: N clients, each with a keep-alive
connection, for a fixed time; reports requests/s and latency percentiles.

Clients run in worker processes (threads within), so the generator itself does
not cap the figures at one core's worth of Python.
"""

import http.client
import multiprocessing
import statistics
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlparse


@dataclass
class Result:
    requests: int
    errors: int
    seconds: float
    latencies_ms: list

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _client(url, headers, deadline, out):
    parsed = urlparse(url)
    path = parsed.path + (f"?{parsed.query}" if parsed.query else "")
    connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=10)
    count = errors = 0
    latencies = []
    while time.monotonic() < deadline:
        started = time.perf_counter()
        try:
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            response.read()
            if response.status >= 400:
                errors += 1
        except (OSError, http.client.HTTPException):
            errors += 1
            connection.close()
            connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=10)
            continue
        latencies.append((time.perf_counter() - started) * 1000)
        count += 1
    connection.close()
    out.append((count, errors, latencies))


def _worker(args):
    url, headers, clients, seconds = args
    deadline = time.monotonic() + seconds
    out = []
    threads = [
        threading.Thread(target=_client, args=(url, headers, deadline, out)) for _ in range(clients)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return out


def run(url: str, seconds: float = 5.0, clients: int = 50, processes: int = 2, headers=None):
    per_process = max(1, clients // processes)
    with multiprocessing.get_context("spawn").Pool(processes) as pool:
        started = time.monotonic()
        parts = pool.map(_worker, [(url, headers or {}, per_process, seconds)] * processes)
        elapsed = time.monotonic() - started
    requests = errors = 0
    latencies = []
    for part in parts:
        for count, errs, lat in part:
            requests += count
            errors += errs
            latencies.extend(lat)
    return Result(requests, errors, min(elapsed, seconds) or seconds, latencies)


def summary(result: Result) -> str:
    median = statistics.median(result.latencies_ms) if result.latencies_ms else float("nan")
    return (
        f"{result.rate:8.0f} req/s  p50 {median:6.1f} ms  p99 {result.percentile(0.99):6.1f} ms"
        f"  errors {result.errors}"
    )
