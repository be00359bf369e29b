"""Who may see which shipments.

A shipment belongs to an application: the applicant sees it, so does the staff of
the department that handles the application, and operators see every shipment.
Anyone else is told it does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass

CITIZEN = "citizen"
STAFF = "staff"
OPERATOR = "operator"


@dataclass(frozen=True)
class Audience:
    """The shipments a caller may see: all, an applicant's, a department's or none."""

    everything: bool = False
    applicant_id: str | None = None
    department_code: str | None = None

    @classmethod
    def of(cls, kind: str, user_id: str | None, department_code: str | None) -> Audience:
        if kind == OPERATOR:
            return cls(everything=True)
        if kind == CITIZEN and user_id:
            return cls(applicant_id=user_id)
        if kind == STAFF and department_code:
            return cls(department_code=department_code)
        return cls()

    @property
    def sees_nothing(self) -> bool:
        return not (self.everything or self.applicant_id or self.department_code)

    def sees(self, applicant_id: str, department_code: str | None) -> bool:
        """True when a shipment of this applicant and department is visible."""
        if self.everything:
            return True
        if self.applicant_id is not None:
            return applicant_id == self.applicant_id
        if self.department_code is not None:
            return department_code == self.department_code
        return False
