"""Run one nameko service in this process, with JSON logs and a bounded shutdown.

    python -m operations.runner services.identity.service:IdentityService

On SIGTERM (or Ctrl-C) the service stops taking new work and lets in-flight
workers finish; after SHUTDOWN_GRACE_SECONDS whatever is left is killed, so a
stuck handler cannot hold a rolling deploy. Unacked messages go back to their
queues and the outbox keeps unsent events: nothing is lost by the kill.
"""

import warnings

# Printed by every process at start, telling an operator nothing.
warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
warnings.filterwarnings("ignore", message=r"pkg_resources is deprecated")

import eventlet

eventlet.monkey_patch()  # before anything opens a socket

import argparse
import importlib
import logging
import os
import signal
import sys

from eventlet.hubs import trampoline
from nameko.runners import ServiceRunner

from services.common import clock
from services.common.config import SERVICE_CONFIG, load_config, service_for_config
from services.common.environment import RefusedToStart
from services.common.logs import setup_logging

log = logging.getLogger(__name__)


def import_service(path: str):
    module_name, _, class_name = path.partition(":")
    module = importlib.import_module(module_name)
    return getattr(module, class_name)


DEFAULT_ADDRESSES = {
    "gateway": "127.0.0.1:8000",
    "identity": "127.0.0.1:8101",
    "catalog": "127.0.0.1:8102",
    "workflow": "127.0.0.1:8103",
    "courier": "127.0.0.1:8104",
    "ratings": "127.0.0.1:8105",
}


def wake_hub_on_signals() -> None:
    """Make a signal wake eventlet's hub at once.

    A Python signal handler runs, but the greenthread it spawns waits until the
    hub next wakes up (a timer or socket event, which on a quiet service may be
    a minute away). Python writes a byte to the wakeup fd on every signal; a
    greenthread waiting on that pipe wakes the hub.
    """
    read_end, write_end = os.pipe()
    os.set_blocking(read_end, False)
    os.set_blocking(write_end, False)
    signal.set_wakeup_fd(write_end)

    def drain():
        while True:
            trampoline(read_end, read=True)
            try:
                os.read(read_end, 512)
            except BlockingIOError:
                continue

    eventlet.spawn_n(drain)


def run(service_cls, config: dict) -> None:
    runner = ServiceRunner(config)
    runner.add_service(service_cls)
    grace = float(config.get("SHUTDOWN_GRACE_SECONDS", 20))
    stopping = []

    def stop_gracefully():
        log.info("stopping", extra={"grace_seconds": grace})
        stopper = eventlet.spawn(runner.stop)
        try:
            with eventlet.Timeout(grace):
                stopper.wait()
        except eventlet.Timeout:
            log.warning("in-flight work did not finish in time; killing it")
            runner.kill()

    def on_signal(signum, frame):
        if not stopping:
            stopping.append(signum)
            eventlet.spawn_n(stop_gracefully)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    wake_hub_on_signals()
    runner.start()
    log.info("started", extra={"address": config.get("WEB_SERVER_ADDRESS")})
    waiter = eventlet.spawn(runner.wait)
    while True:
        try:
            waiter.wait()
            break
        except OSError:  # EINTR from the signal handler; keep waiting
            continue


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Run a tongban service.")
    parser.add_argument("service", help="module:Class of the nameko service")
    parser.add_argument("--config", default=str(SERVICE_CONFIG))
    args = parser.parse_args(argv)
    config = load_config(args.config)
    # A class may pick its instance from the config (workflow's DEPARTMENT_CODE).
    service_cls = service_for_config(import_service(args.service), config)
    if not config.get("WEB_SERVER_ADDRESS"):
        config["WEB_SERVER_ADDRESS"] = DEFAULT_ADDRESSES.get(service_cls.name, "127.0.0.1:8100")
    setup_logging(service_cls.name, str(config.get("LOG_LEVEL", "INFO")))
    # Empty in production; drills and end-to-end tests move the clock with it.
    clock.configure(config.get("CLOCK_OFFSET_FILE") or None)
    try:
        run(service_cls, config)
    except RefusedToStart:
        return 2  # the reason is logged already, in one line
    return 0


if __name__ == "__main__":
    sys.exit(main())
