"""Who may change a department's part of the catalogue."""

from __future__ import annotations

from collections.abc import Mapping

from services.common.errors import Forbidden

DEPT_ADMIN = "dept_admin"
OPERATOR = "operator"


def authorise_admin(actor: Mapping, department_code: str | None, action: str) -> None:
    """The operator, or a dept_admin of ``department_code``, may do ``action``
    (words that finish "may ...": "change its items"); anyone else is Forbidden."""
    if actor.get("kind") == OPERATOR:
        return
    if (
        actor.get("kind") == "staff"
        and DEPT_ADMIN in (actor.get("roles") or ())
        and department_code is not None
        and actor.get("department_code") == department_code
    ):
        return
    raise Forbidden(f"only an administrator of department {department_code} may {action}")
