"""The facts an automatic decision (即办件) is taken on, gathered from their sources.

Plain Python: the sources are injected, so the rules engine (and its tests) can
hand in anything that answers like them::

    gatherer = FactGatherer(
        rpc=functools.partial(self.clients.call, correlation_id=self.uow.correlation_id),
        data_exchange=self.data_exchange,          # adapters.data_exchange.DataExchangeClient
        licences=lambda user_id=None, id_number=None: ...,
    )
    facts = gatherer.gather(
        ["applicant.age", "housing.homes_owned"],
        CaseContext(
            applicant_id=application.applicant_id,
            principal=application.on_behalf_of,
            region_code=application.region_code,
            today=china_today(),
        ),  # or CaseContext.of(application, today)
    )
    # {"applicant.age": 36, "housing.homes_owned": 1}

Only the sources the requested facts need are asked, each at most once per
``gather``. A source that cannot answer raises :class:`FactsUnavailable` naming
it: the engine then sends the case to a person, never decides on a guess.

A fact's value is None when the case has none to give, which is not an outage:
the applicant is not real-name verified (no ID number, so no age, household
region, marital status or homes), civil affairs has no record of the person,
the application is not for an enterprise, the item's region is no city. A rule
must treat None as "cannot decide" (never as 0 or False).

The facts (``FACTS``):

- ``applicant.level`` (int 1|2) identity's assurance level; None for an
  older case applied for a person known by ID number only (no account).
- ``applicant.age`` (int) full years on ``today``, from the birth date.
- ``applicant.household_region`` (str) the six-digit division code of the
  household registration (the ID number's first six digits).
- ``applicant.licences`` (list of item ids, sorted) of the valid licences held.
- ``civil_affairs.marital_status`` (str) single, married, divorced or widowed.
- ``housing.homes_owned`` (int) homes owned in the item's city (the first four
  digits of its region code + "00") by the person and, when married, the
  spouse together. The housing register's "no record" of a person counts as
  owning none (the register knows of every registered home); civil affairs'
  "no record" makes the count None (whether there is a spouse is unknown).
- ``enterprise.registered`` (bool) whether the enterprise an agent applies for
  is registered with identity; None when the application is not for one.

For an agent's application on behalf of a person, the applicant facts are the
principal's: identity's ``person_facts`` of the principal's account, and the
licences they hold. (Cases from before principals had accounts carry the
person's ID number instead: the facts are read from it, with no identity call,
``applicant.level`` None.)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from services.common.errors import Invalid, NotFound, ServiceError
from services.common.logs import redact
from services.common.pii import AUTOMATIC_DECISION

APPLICANT_LEVEL = "applicant.level"
APPLICANT_AGE = "applicant.age"
APPLICANT_HOUSEHOLD_REGION = "applicant.household_region"
APPLICANT_LICENCES = "applicant.licences"
MARITAL_STATUS = "civil_affairs.marital_status"
HOMES_OWNED = "housing.homes_owned"
ENTERPRISE_REGISTERED = "enterprise.registered"
FACTS = frozenset(
    {
        APPLICANT_LEVEL,
        APPLICANT_AGE,
        APPLICANT_HOUSEHOLD_REGION,
        APPLICANT_LICENCES,
        MARITAL_STATUS,
        HOMES_OWNED,
        ENTERPRISE_REGISTERED,
    }
)

# The sources, as FactsUnavailable names them.
IDENTITY = "identity"
CIVIL_AFFAIRS = "civil_affairs"
HOUSING = "housing"
LICENCES = "licences"
SOURCES = (IDENTITY, CIVIL_AFFAIRS, HOUSING, LICENCES)

MARRIED = "married"


class FactsUnavailable(Exception):
    """A source could not answer: ``source`` is one of ``SOURCES``, ``reason``
    says why (no ID number in it). The case goes to a person."""

    def __init__(self, source: str, reason: str):
        super().__init__(source, reason)
        self.source = source
        self.reason = reason

    def __str__(self) -> str:
        return f"{self.source} cannot answer: {self.reason}"


class UnknownFact(ValueError):
    """A rule asked for facts this gatherer does not know (a rule's mistake)."""

    def __init__(self, names: Iterable[str]):
        self.names = sorted(names)
        known = ", ".join(sorted(FACTS))
        super().__init__(f"unknown facts: {', '.join(self.names)}; known: {known}")


class DataExchangeSource(Protocol):
    """What the gatherer needs of ``adapters.data_exchange.DataExchangeClient``.
    Failures are ``services.common.errors.ServiceError`` (Unavailable, Invalid)."""

    def marriage_record(self, id_number: str) -> Any | None:
        """An object with ``marital_status`` and ``spouse_id_number``, or None."""

    def homes_owned(self, id_number: str, city_code: str) -> int | None: ...


# rpc(service, method, **arguments) -> answer, raising the shared error types
# (services.common.rpc.RpcClientPool.call with the correlation id bound).
RpcCall = Callable[..., Any]
# licences(user_id=..., id_number=...) -> the licences the party holds: records
# (mappings or objects) with item_id and valid. Called with user_id for an
# applicant themself, with id_number for the person an agent applies for.
LicencesHeld = Callable[..., Iterable[Any]]


@dataclass(frozen=True)
class CaseContext:
    """What the gatherer knows of the case.

    ``principal`` is the application's ``on_behalf_of`` as the domain holds it
    (``{kind: person, user_id, name}``, an older case's ``{kind: person, name,
    id_number}`` with the number masked, or ``{kind: enterprise, uscc, name}``),
    None when the applicant applies for themself.
    ``region_code`` is the item's six-digit division code; ``today`` the day
    ages are counted on (Jiangsu's, ``domain.model.china_today()``).
    ``principal_id_number`` gives an older case's person's full number; it is
    called only when a fact needs it (the read is recorded by whoever gives it).
    """

    applicant_id: str
    region_code: str
    today: date
    principal: Mapping[str, Any] | None = None
    principal_id_number: Callable[[], str | None] | None = None

    @classmethod
    def of(
        cls,
        application: Any,
        today: date,
        principal_id_number: Callable[[], str | None] | None = None,
    ) -> CaseContext:
        """The context of a case: anything with ``applicant_id``, ``on_behalf_of``
        and ``region_code`` (``domain.model.Application``), on ``today``."""
        return cls(
            applicant_id=application.applicant_id,
            region_code=application.region_code,
            today=today,
            principal=application.on_behalf_of,
            principal_id_number=principal_id_number,
        )

    @property
    def for_person(self) -> bool:
        return bool(self.principal) and self.principal.get("kind") == "person"

    @property
    def by_number(self) -> bool:
        """For a person known by ID number only (an older case), not by account."""
        return self.for_person and not self.principal.get("user_id")

    @property
    def subject_id(self) -> str:
        """The account the applicant facts are about: the person applied for,
        else the applicant."""
        if self.for_person and self.principal.get("user_id"):
            return self.principal["user_id"]
        return self.applicant_id

    @property
    def for_enterprise(self) -> bool:
        return bool(self.principal) and self.principal.get("kind") == "enterprise"

    def __repr__(self) -> str:
        kind = (self.principal or {}).get("kind")
        return (
            f"CaseContext(applicant_id={self.applicant_id!r}, principal={kind!r}, "
            f"region_code={self.region_code!r}, today={self.today!r})"
        )


class FactGatherer:
    """Gathers facts by name from identity, the data exchange and the licences
    held. One gatherer may serve many cases; each ``gather`` asks afresh."""

    def __init__(
        self,
        *,
        rpc: RpcCall,
        data_exchange: DataExchangeSource,
        licences: LicencesHeld,
        accessor_id: str | None = None,
    ):
        self._rpc = rpc
        self._data_exchange = data_exchange
        self._licences = licences
        # Who reads a person's facts, for identity's record of the read.
        self._accessor = (
            {"accessor_id": accessor_id, "accessor_kind": "service"} if accessor_id else {}
        )

    def gather(self, facts: Iterable[str], context: CaseContext) -> dict[str, Any]:
        """``{fact: value}`` for each fact named (see the module's docstring).

        Raises UnknownFact (before asking anything) for a name not in ``FACTS``,
        and FactsUnavailable when a source the facts need cannot answer.
        """
        wanted = list(dict.fromkeys(facts))
        unknown = set(wanted) - FACTS
        if unknown:
            raise UnknownFact(unknown)
        case = _Gathering(self, context)
        return {fact: case.value_of(fact) for fact in wanted}


_UNSET = object()


class _Gathering:
    """One ``gather``: each source is asked at most once, when a fact needs it."""

    def __init__(self, gatherer: FactGatherer, context: CaseContext):
        self._gatherer = gatherer
        self.context = context
        self._person: Any = _UNSET
        self._marriage: Any = _UNSET
        self._principal_number: Any = _UNSET

    def value_of(self, fact: str) -> Any:
        return {
            APPLICANT_LEVEL: self.level,
            APPLICANT_AGE: self.age,
            APPLICANT_HOUSEHOLD_REGION: self.household_region,
            APPLICANT_LICENCES: self.licences,
            MARITAL_STATUS: self.marital_status,
            HOMES_OWNED: self.homes_owned,
            ENTERPRISE_REGISTERED: self.enterprise_registered,
        }[fact]()

    # -- applicant -----------------------------------------------------------

    def level(self) -> int | None:
        if self.context.by_number:
            return None
        return int(self.person()["level"])

    def age(self) -> int | None:
        if self.context.by_number:
            born = _birth_date_in(self.subject_id_number())
        else:
            born = self.person()["birth_date"]
        return None if born is None else full_years(born, self.context.today)

    def household_region(self) -> str | None:
        if self.context.by_number:
            number = self.subject_id_number()
            return number[:6] if number else None
        return self.person()["household_region"]

    def licences(self) -> list[str]:
        if self.context.by_number:
            holder = {"id_number": self.subject_id_number()}
        else:
            holder = {"user_id": self.context.subject_id}
        try:
            held = list(self._gatherer._licences(**holder))
        except ServiceError as error:
            raise FactsUnavailable(LICENCES, _reason(error)) from error
        return sorted({_field(licence, "item_id") for licence in held if _field(licence, "valid")})

    # -- other departments' registers ------------------------------------------

    def marital_status(self) -> str | None:
        record = self.marriage()
        return None if record is None else record.marital_status

    def homes_owned(self) -> int | None:
        city = city_of(self.context.region_code)
        number = self.subject_id_number()
        if city is None or number is None:
            return None
        record = self.marriage()
        if record is None:
            return None  # whether a spouse's homes count is unknown
        owners = [number]
        if record.marital_status == MARRIED:
            if not record.spouse_id_number:
                raise FactsUnavailable(CIVIL_AFFAIRS, "a marriage record without the spouse")
            owners.append(record.spouse_id_number)
        return sum(self.homes_of(owner, city) for owner in owners)

    def homes_of(self, id_number: str, city: str) -> int:
        try:
            homes = self._gatherer._data_exchange.homes_owned(id_number, city)
        except ServiceError as error:
            raise FactsUnavailable(HOUSING, _reason(error)) from error
        # The register's "no record": it knows of no home the person owns.
        return 0 if homes is None else int(homes)

    def marriage(self) -> Any | None:
        if self._marriage is _UNSET:
            number = self.subject_id_number()
            if number is None:
                self._marriage = None
            else:
                try:
                    self._marriage = self._gatherer._data_exchange.marriage_record(number)
                except ServiceError as error:
                    raise FactsUnavailable(CIVIL_AFFAIRS, _reason(error)) from error
        return self._marriage

    # -- enterprise --------------------------------------------------------------

    def enterprise_registered(self) -> bool | None:
        if not self.context.for_enterprise:
            return None
        try:
            self._gatherer._rpc(IDENTITY, "get_enterprise", uscc=self.context.principal["uscc"])
        except (NotFound, Invalid):
            return False  # a malformed credit code is never registered either
        except (ServiceError, OSError) as error:
            raise FactsUnavailable(IDENTITY, _reason(error)) from error
        return True

    # -- the person the facts are about ------------------------------------------

    def subject_id_number(self) -> str | None:
        """The ID number of the person the facts are about: the principal's, or
        the applicant's verified one (None below level 2)."""
        if self.context.by_number:
            if self._principal_number is _UNSET:
                reveal = self.context.principal_id_number
                self._principal_number = _plain_number(
                    reveal() if reveal is not None else self.context.principal.get("id_number")
                )
            return self._principal_number
        return self.person()["id_number"]

    def person(self) -> Mapping[str, Any]:
        """identity's ``person_facts`` of the applicant, asked once."""
        if self._person is _UNSET:
            try:
                answer = self._gatherer._rpc(
                    IDENTITY,
                    "person_facts",
                    user_id=self.context.subject_id,
                    purpose=AUTOMATIC_DECISION,
                    **self._gatherer._accessor,
                )
            except NotFound as error:
                raise FactsUnavailable(IDENTITY, "identity does not know the applicant") from error
            except (ServiceError, OSError) as error:
                raise FactsUnavailable(IDENTITY, _reason(error)) from error
            self._person = _checked_person(answer)
        return self._person


def full_years(born: date, today: date) -> int:
    """Age in full years on ``today`` (one born on 29 February turns a year
    older on 1 March in other years)."""
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def city_of(region_code: str) -> str | None:
    """The city's division code of a region (``320102`` -> ``320100``); None for
    a province (``320000``) or a code that is not six digits."""
    if not (isinstance(region_code, str) and len(region_code) == 6 and region_code.isdigit()):
        return None
    if region_code[2:] == "0000":
        return None
    return region_code[:4] + "00"


def _plain_number(number: Any) -> str | None:
    """A full ID number as the registers take it; None for none or a masked one."""
    if not isinstance(number, str) or not number.strip():
        return None
    number = number.strip().upper()
    return number if len(number) == 18 and "*" not in number else None


def _birth_date_in(id_number: str | None) -> date | None:
    if not id_number or len(id_number) != 18:
        return None
    try:
        return date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))
    except ValueError:
        return None


def _checked_person(answer: Any) -> dict[str, Any]:
    """identity's answer with ``birth_date`` as a date; FactsUnavailable when it
    does not read (level 1 or 2; at level 2 a number, its birth date and region)."""
    unreadable = FactsUnavailable(IDENTITY, "person_facts answered unreadably")
    if not isinstance(answer, Mapping) or answer.get("level") not in (1, 2):
        raise unreadable
    person = {
        "level": answer["level"],
        "id_number": answer.get("id_number"),
        "birth_date": answer.get("birth_date"),
        "household_region": answer.get("household_region"),
    }
    if person["level"] == 1:
        # Below level 2 nothing the number encodes is known, whatever was sent.
        return {**person, "id_number": None, "birth_date": None, "household_region": None}
    try:
        born = person["birth_date"]
        person["birth_date"] = born if isinstance(born, date) else date.fromisoformat(born)
    except (TypeError, ValueError):
        raise unreadable from None
    number, region = person["id_number"], person["household_region"]
    if not (isinstance(number, str) and len(number) == 18):
        raise unreadable
    if not (isinstance(region, str) and len(region) == 6 and region.isdigit()):
        raise unreadable
    return person


def _field(record: Any, name: str) -> Any:
    return record.get(name) if isinstance(record, Mapping) else getattr(record, name, None)


def _reason(error: BaseException) -> str:
    """The error's message, for a person reading why a case came to them."""
    name = type(error).__name__
    text = getattr(error, "message", None) or str(error) or name
    # A source's message might echo a number it refused; a reason never carries one.
    return redact(f"{name}: {text}" if text != name else text)
