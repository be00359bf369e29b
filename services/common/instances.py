"""Workflow instances and the ids they issue.

The shared provincial instance is ``workflow``; a department's own instance is
``workflow-<code>`` (config ``DEPARTMENT_CODE``). A department instance starts
every application id and licence number it issues with ``<code>.``
(``js-ga.3f2a...``, ``js-ga.JS32000020261125000001``); the shared instance's ids
have no prefix. So an id says which instance holds it, and the gateway routes a
command about one case or licence without asking anyone.
"""

from __future__ import annotations

import re

from services.common.errors import NotFound

SHARED_WORKFLOW = "workflow"
INSTANCE_PREFIX = "workflow-"
ID_SEPARATOR = "."

# Lowercase letters, digits and hyphens, starting with a letter or digit. At most
# 24 characters so that "<code>." plus a 32-character id fits the 64-character
# id columns.
MAX_CODE_LENGTH = 24
_CODE = re.compile(rf"[a-z0-9][a-z0-9-]{{0,{MAX_CODE_LENGTH - 1}}}")


def is_department_code(value: object) -> bool:
    return isinstance(value, str) and _CODE.fullmatch(value) is not None


def department_code(value: object) -> str:
    """A validated department code; ValueError naming the rule otherwise."""
    if not is_department_code(value):
        raise ValueError(
            f"department code must be lowercase letters, digits and hyphens "
            f"(1..{MAX_CODE_LENGTH}, not starting with a hyphen), got {value!r}"
        )
    return value


def instance_for(code: str | None) -> str:
    """``workflow`` for no code, ``workflow-<code>`` for a department's (validated)."""
    code = (code or "").strip()
    return f"{INSTANCE_PREFIX}{department_code(code)}" if code else SHARED_WORKFLOW


def code_of(instance: str) -> str | None:
    """The department code of ``workflow-<code>``; None for ``workflow``."""
    if instance == SHARED_WORKFLOW:
        return None
    if instance.startswith(INSTANCE_PREFIX) and is_department_code(
        instance[len(INSTANCE_PREFIX) :]
    ):
        return instance[len(INSTANCE_PREFIX) :]
    raise ValueError(f"not a workflow instance name: {instance!r}")


def id_prefix(instance: str) -> str:
    """What the instance puts before the ids it issues: ``""`` or ``"<code>."``."""
    code = code_of(instance)
    return f"{code}{ID_SEPARATOR}" if code else ""


def workflow_instance_of(identifier: str) -> str:
    """The instance that issued an application id or licence number.

    ``js-ga.3f2a...`` -> ``workflow-js-ga``; an id without a prefix -> ``workflow``.
    NotFound for a malformed prefix (no such id can exist).
    """
    if not isinstance(identifier, str) or not identifier:
        raise NotFound(f"{identifier!r} not found")
    if ID_SEPARATOR not in identifier:
        return SHARED_WORKFLOW
    code, _, rest = identifier.partition(ID_SEPARATOR)
    if not is_department_code(code) or not rest or ID_SEPARATOR in rest:
        raise NotFound(f"{identifier} not found")
    return f"{INSTANCE_PREFIX}{code}"


def parse_departments(value: object) -> list[str]:
    """``"js-ga, ks-xzsp"`` (or a list) -> ``["js-ga", "ks-xzsp"]``, validated,
    without duplicates; empty or None -> ``[]``."""
    if value is None:
        return []
    parts = value if isinstance(value, (list, tuple)) else str(value).split(",")
    codes: list[str] = []
    for part in parts:
        code = str(part).strip()
        if code and code not in codes:
            codes.append(department_code(code))
    return codes
