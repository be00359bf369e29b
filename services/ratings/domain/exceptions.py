"""Errors the ratings domain raises.

Each is one of the shared error types (``services.common.errors``, plain Python)
with a more precise name: the entrypoint sends it to the caller as that type,
keeping its message, its ``fields`` and its ``code``.
"""

from services.common.errors import Conflict, Forbidden, Invalid, NotFound


class ValidationFailed(Invalid):
    """Input breaks a rule; ``fields`` maps every bad field to what is wrong with it."""

    def __init__(self, fields: dict[str, str], message: str = "validation failed"):
        super().__init__(message, fields)


class NotPermitted(Forbidden):
    """The actor may not do this (not the applicant, not staff of the department)."""


class CaseNotCompleted(Conflict):
    """Ratings has not heard that the case ended (completed, denied or
    rejected), so it cannot be reviewed."""

    def __init__(self) -> None:
        super().__init__("the case has not ended yet")


class AlreadyReviewed(Conflict):
    """The case has a review already; a case is reviewed once."""

    code = "already_reviewed"

    def __init__(self, message: str = "the case has already been reviewed") -> None:
        super().__init__(message)


class InvalidTransition(Conflict):
    """The entity's status does not allow the step (e.g. resolving a resolved
    rectification)."""

    code = "invalid_transition"


class UnknownRectification(NotFound):
    def __init__(self) -> None:
        super().__init__("no such rectification", {"rectification_id": "not found"})


class ReviewWindowClosed(Conflict):
    """The days in which an ended case may be reviewed have passed."""

    code = "review_window_closed"


class UnknownVisitToken(NotFound):
    """No visit has this rating token."""

    def __init__(self) -> None:
        super().__init__("no visit has this token", {"token": "not found"})


class TokenUsed(Conflict):
    """The visit was rated already: a token rates once."""

    code = "token_used"

    def __init__(self) -> None:
        super().__init__("the visit has already been rated")


class TokenExpired(Conflict):
    """The visit's token is past the days it was valid for."""

    code = "token_expired"

    def __init__(self) -> None:
        super().__init__("the rating token has expired")


class ItemNotRateable(Conflict):
    """A visit cannot be recorded for this item (not published, or no flagship
    store to show the reviews)."""

    code = "item_not_rateable"


class UnknownReview(NotFound):
    def __init__(self) -> None:
        super().__init__("no such review", {"review_id": "not found"})


class AlreadyReplied(Conflict):
    """The department answered this review already; a review is answered once."""

    code = "already_replied"

    def __init__(self) -> None:
        super().__init__("the review has already been replied to")


class AppealPending(Conflict):
    """The review has an appeal awaiting the operator's decision."""

    code = "appeal_pending"

    def __init__(self) -> None:
        super().__init__("the review has an appeal awaiting a decision")


class AppealAlreadyDecided(Conflict):
    """The review's appeal was decided; a review is appealed once."""

    code = "appeal_decided"

    def __init__(self) -> None:
        super().__init__("the review's appeal has been decided already")


class UnknownAppeal(NotFound):
    def __init__(self) -> None:
        super().__init__("no such appeal", {"appeal_id": "not found"})
