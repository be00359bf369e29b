"""One-shot failure drills: a crash at a chosen point of a chosen service.

The environment variable ``TONGBAN_DRILL_FILE`` names a file. While that file
holds ``<drill> <service>`` (``relay-crash-after-confirm workflow``), the first
process of that service to reach the drill's point removes the file and exits
at once with code 137, as a process killed there would; every other process,
and every later pass, goes on. Without the variable, or without the file, a
point costs one ``os.environ`` lookup or one failed ``open``.

The fault suite (``python -m tests.faults``) arms the drills to prove that a
crash at the worst moment loses and repeats nothing a consumer would see twice.
"""

from __future__ import annotations

import logging
import os
import sys

log = logging.getLogger(__name__)

DRILL_FILE_VARIABLE = "TONGBAN_DRILL_FILE"
# The outbox relay, after the broker confirmed a batch and before the rows are
# marked sent: the batch is published again after the restart.
RELAY_CRASH_AFTER_CONFIRM = "relay-crash-after-confirm"
CRASH_EXIT_CODE = 137


def armed(drill: str, service: str) -> bool:
    """Whether the drill file asks for ``drill`` in ``service`` right now."""
    path = os.environ.get(DRILL_FILE_VARIABLE)
    if not path:
        return False
    try:
        with open(path, encoding="utf-8") as handle:
            words = handle.read().split()
    except OSError:
        return False
    return words == [drill, service]


def crash_point(drill: str, service: str) -> None:
    """Exit the process here (code 137) when the drill is armed for ``service``;
    the process that removes the file is the one that crashes, so only one does."""
    if not armed(drill, service):
        return
    try:
        os.remove(os.environ[DRILL_FILE_VARIABLE])
    except OSError:  # another process of the service took it first
        return
    log.critical("drill %s: %s exits now", drill, service)
    for handler in logging.getLogger().handlers:
        handler.flush()
    sys.stdout.flush()
    os._exit(CRASH_EXIT_CODE)
