"""FactGatherer with fake sources: every fact, only the sources a fact needs, and
each source that cannot answer reported as such (never a default value)."""

from datetime import date
from types import SimpleNamespace

import pytest

from services.common.errors import Invalid, NotFound, Unavailable
from services.common.rpc import Timeout
from services.workflow.adapters.data_exchange import (
    DataExchangeRejected,
    DataExchangeUnavailable,
    MarriageRecord,
)
from services.workflow.service_layer.facts import (
    CIVIL_AFFAIRS,
    FACTS,
    HOUSING,
    IDENTITY,
    LICENCES,
    CaseContext,
    FactGatherer,
    FactsUnavailable,
    UnknownFact,
    city_of,
    full_years,
)

ME = "320102199005150117"  # born 15 May 1990, household 320102 (玄武区)
SPOUSE = "320106198708210420"
PRINCIPAL = "32010519790102053X"  # born 2 January 1979
NANJING_DISTRICT = "320102"
TODAY = date(2026, 11, 25)
USCC = "91320102MA1XY20K5A"


class FakeIdentity:
    """identity's RPC methods as the gatherer calls them: rpc(service, method, **kw)."""

    def __init__(self, level=2, enterprises=(), fail=None):
        self.calls = []
        self.level = level
        self.enterprises = set(enterprises)
        self.fail = fail or {}

    def __call__(self, service, method, **arguments):
        assert service == "identity"
        self.calls.append((method, arguments))
        if method in self.fail:
            raise self.fail[method]
        if method == "person_facts":
            verified = self.level == 2
            return {
                "user_id": arguments["user_id"],
                "level": self.level,
                "name": "张三",
                "id_number": ME if verified else None,
                "birth_date": "1990-05-15" if verified else None,
                "household_region": "320102" if verified else None,
            }
        if method == "get_enterprise":
            if arguments["uscc"] not in self.enterprises:
                raise NotFound("enterprise not found")
            return {"uscc": arguments["uscc"]}
        raise AssertionError(method)


class FakeDataExchange:
    def __init__(self, marriages=None, homes=None, fail=None):
        self.marriages = marriages or {}
        self.homes = homes or {}
        self.fail = fail or {}
        self.calls = []

    def marriage_record(self, id_number):
        self.calls.append(("marriage_record", id_number))
        if "marriage_record" in self.fail:
            raise self.fail["marriage_record"]
        return self.marriages.get(id_number)

    def homes_owned(self, id_number, city_code):
        self.calls.append(("homes_owned", id_number, city_code))
        failure = self.fail.get(("homes_owned", id_number)) or self.fail.get("homes_owned")
        if failure:
            raise failure
        return self.homes.get((id_number, city_code))


class FakeLicences:
    def __init__(self, held=(), fail=None):
        self.held = list(held)
        self.fail = fail
        self.calls = []

    def __call__(self, user_id=None, id_number=None):
        self.calls.append({"user_id": user_id, "id_number": id_number})
        if self.fail:
            raise self.fail
        return self.held


def context(principal=None, region_code=NANJING_DISTRICT, today=TODAY):
    return CaseContext(
        applicant_id="u-applicant", region_code=region_code, today=today, principal=principal
    )


def gatherer(identity=None, exchange=None, licences=None):
    identity = identity or FakeIdentity()
    exchange = exchange or FakeDataExchange()
    licences = licences or FakeLicences()
    return (
        FactGatherer(rpc=identity, data_exchange=exchange, licences=licences),
        identity,
        exchange,
        licences,
    )


def married(spouse=SPOUSE):
    return MarriageRecord("married", spouse)


PERSON = {"kind": "person", "name": "赵磊", "id_number": PRINCIPAL}
ENTERPRISE = {"kind": "enterprise", "uscc": USCC, "name": "南京某某科技有限公司"}


# --- the applicant ------------------------------------------------------------


def test_a_verified_applicants_facts_come_from_identity_alone():
    facts, identity, exchange, licences = gatherer()
    found = facts.gather(
        ["applicant.level", "applicant.age", "applicant.household_region"], context()
    )
    assert found == {
        "applicant.level": 2,
        "applicant.age": 36,
        "applicant.household_region": "320102",
    }
    assert identity.calls == [
        ("person_facts", {"user_id": "u-applicant", "purpose": "automatic_decision"})
    ]  # asked once
    assert exchange.calls == [] and licences.calls == []


def test_below_level_2_what_the_id_number_encodes_is_none_and_no_register_is_asked():
    facts, _, exchange, _ = gatherer(identity=FakeIdentity(level=1))
    assert facts.gather(sorted(FACTS - {"applicant.licences"}), context()) == {
        "applicant.level": 1,
        "applicant.age": None,
        "applicant.household_region": None,
        "civil_affairs.marital_status": None,
        "housing.homes_owned": None,
        "enterprise.registered": None,
    }
    assert exchange.calls == []


@pytest.mark.parametrize(
    ("born", "today", "age"),
    [
        (date(1990, 5, 15), date(2026, 5, 14), 35),
        (date(1990, 5, 15), date(2026, 5, 15), 36),
        (date(2008, 2, 29), date(2026, 2, 28), 17),
        (date(2008, 2, 29), date(2026, 3, 1), 18),
        (date(2008, 2, 29), date(2028, 2, 29), 20),
    ],
)
def test_age_is_full_years_on_the_day(born, today, age):
    assert full_years(born, today) == age


def test_age_counts_on_the_context_day():
    facts, *_ = gatherer()
    assert facts.gather(["applicant.age"], context(today=date(2026, 5, 14))) == {
        "applicant.age": 35
    }


def test_licences_are_the_item_ids_of_valid_ones_asked_of_the_applicant_only():
    held = [
        {"item_id": "item-b", "valid": True},
        SimpleNamespace(item_id="item-a", valid=True),
        {"item_id": "item-c", "valid": False},
        {"item_id": "item-b", "valid": True},
    ]
    facts, identity, exchange, licences = gatherer(licences=FakeLicences(held))
    assert facts.gather(["applicant.licences"], context()) == {
        "applicant.licences": ["item-a", "item-b"]
    }
    assert licences.calls == [{"user_id": "u-applicant", "id_number": None}]
    assert identity.calls == [] and exchange.calls == []


# --- an agent's application on behalf of a person --------------------------------


def test_for_a_person_with_an_account_the_facts_are_their_accounts():
    facts, identity, exchange, licences = gatherer(
        licences=FakeLicences([{"item_id": "x", "valid": True}])
    )
    principal = {"kind": "person", "user_id": "u-principal", "name": "王五"}
    found = facts.gather(
        ["applicant.level", "applicant.age", "applicant.licences", "civil_affairs.marital_status"],
        context(principal=principal),
    )
    assert found == {
        "applicant.level": 2,
        "applicant.age": 36,
        "applicant.licences": ["x"],
        "civil_affairs.marital_status": None,
    }
    # Asked of the principal's account, never of the agent's.
    assert identity.calls == [
        ("person_facts", {"user_id": "u-principal", "purpose": "automatic_decision"})
    ]
    assert licences.calls == [{"user_id": "u-principal", "id_number": None}]
    assert exchange.calls == [("marriage_record", ME)]


def test_for_a_principal_the_applicant_facts_are_theirs_from_the_id_number():
    facts, identity, _, licences = gatherer(licences=FakeLicences([{"item_id": "x", "valid": 1}]))
    found = facts.gather(
        [
            "applicant.level",
            "applicant.age",
            "applicant.household_region",
            "applicant.licences",
        ],
        context(principal=PERSON),
    )
    assert found == {
        "applicant.level": None,
        "applicant.age": 47,
        "applicant.household_region": "320105",
        "applicant.licences": ["x"],
    }
    assert identity.calls == []
    assert licences.calls == [{"user_id": None, "id_number": PRINCIPAL}]


def test_a_principals_registers_are_asked_by_their_number():
    exchange = FakeDataExchange(
        marriages={PRINCIPAL: MarriageRecord("divorced")}, homes={(PRINCIPAL, "320100"): 2}
    )
    facts, identity, exchange, _ = gatherer(exchange=exchange)
    found = facts.gather(
        ["civil_affairs.marital_status", "housing.homes_owned"], context(principal=PERSON)
    )
    assert found == {"civil_affairs.marital_status": "divorced", "housing.homes_owned": 2}
    assert identity.calls == []


def test_a_masked_principal_is_revealed_once_and_only_when_a_fact_needs_the_number():
    reveals = []

    def reveal():
        reveals.append(1)
        return PRINCIPAL

    masked = {**PERSON, "id_number": PRINCIPAL[:4] + "*" * 10 + PRINCIPAL[-4:]}
    case = CaseContext(
        applicant_id="u-applicant",
        region_code=NANJING_DISTRICT,
        today=TODAY,
        principal=masked,
        principal_id_number=reveal,
    )
    facts, *_ = gatherer()
    assert facts.gather(["applicant.level"], case) == {"applicant.level": None}
    assert reveals == []
    found = facts.gather(["applicant.age", "applicant.household_region"], case)
    assert found == {"applicant.age": 47, "applicant.household_region": "320105"}
    assert reveals == [1]


def test_a_masked_number_is_never_taken_for_one():
    masked = {**PERSON, "id_number": PRINCIPAL[:4] + "*" * 10 + PRINCIPAL[-4:]}
    facts, _, exchange, _ = gatherer()
    found = facts.gather(["applicant.age", "civil_affairs.marital_status"], context(masked))
    assert found == {"applicant.age": None, "civil_affairs.marital_status": None}
    assert exchange.calls == []


def test_person_facts_names_the_reading_service():
    identity = FakeIdentity()
    facts = FactGatherer(
        rpc=identity, data_exchange=FakeDataExchange(), licences=FakeLicences(), accessor_id="wf"
    )
    facts.gather(["applicant.level"], context())
    assert identity.calls == [
        (
            "person_facts",
            {
                "user_id": "u-applicant",
                "purpose": "automatic_decision",
                "accessor_id": "wf",
                "accessor_kind": "service",
            },
        )
    ]


def test_a_principals_number_with_no_real_birth_date_has_no_age():
    principal = {**PERSON, "id_number": "320105197913420538"}
    facts, *_ = gatherer()
    assert facts.gather(["applicant.age"], context(principal=principal)) == {"applicant.age": None}


# --- civil affairs and housing ----------------------------------------------------


@pytest.mark.parametrize("status", ["single", "divorced", "widowed", "married"])
def test_marital_status_is_civil_affairs_record(status):
    record = married() if status == "married" else MarriageRecord(status)
    facts, _, exchange, _ = gatherer(exchange=FakeDataExchange(marriages={ME: record}))
    assert facts.gather(["civil_affairs.marital_status"], context()) == {
        "civil_affairs.marital_status": status
    }
    assert exchange.calls == [("marriage_record", ME)]


def test_no_civil_affairs_record_is_none_not_single():
    facts, *_ = gatherer()
    assert facts.gather(["civil_affairs.marital_status"], context()) == {
        "civil_affairs.marital_status": None
    }


def test_homes_of_a_single_person_in_the_items_city():
    exchange = FakeDataExchange(
        marriages={ME: MarriageRecord("single")},
        homes={(ME, "320100"): 1, (ME, "320500"): 3},
    )
    facts, _, exchange, _ = gatherer(exchange=exchange)
    assert facts.gather(["housing.homes_owned"], context(region_code="320102")) == {
        "housing.homes_owned": 1
    }
    assert ("homes_owned", ME, "320100") in exchange.calls


def test_a_married_households_homes_are_both_spouses():
    exchange = FakeDataExchange(
        marriages={ME: married()}, homes={(ME, "320100"): 1, (SPOUSE, "320100"): 1}
    )
    facts, _, exchange, _ = gatherer(exchange=exchange)
    found = facts.gather(["civil_affairs.marital_status", "housing.homes_owned"], context())
    assert found == {"civil_affairs.marital_status": "married", "housing.homes_owned": 2}
    # civil affairs asked once for both facts
    assert exchange.calls == [
        ("marriage_record", ME),
        ("homes_owned", ME, "320100"),
        ("homes_owned", SPOUSE, "320100"),
    ]


def test_no_housing_record_counts_as_owning_none():
    exchange = FakeDataExchange(marriages={ME: married()}, homes={(SPOUSE, "320100"): 1})
    facts, *_ = gatherer(exchange=exchange)
    assert facts.gather(["housing.homes_owned"], context()) == {"housing.homes_owned": 1}


def test_without_a_civil_affairs_record_the_homes_are_unknown():
    exchange = FakeDataExchange(homes={(ME, "320100"): 0})
    facts, _, exchange, _ = gatherer(exchange=exchange)
    assert facts.gather(["housing.homes_owned"], context()) == {"housing.homes_owned": None}
    assert exchange.calls == [("marriage_record", ME)]


def test_a_province_item_has_no_city_to_count_homes_in():
    facts, _, exchange, _ = gatherer(exchange=FakeDataExchange(marriages={ME: married()}))
    assert facts.gather(["housing.homes_owned"], context(region_code="320000")) == {
        "housing.homes_owned": None
    }
    assert exchange.calls == []


@pytest.mark.parametrize(
    ("region", "city"),
    [("320102", "320100"), ("320100", "320100"), ("320000", None), ("32", None), (None, None)],
)
def test_city_of_a_region(region, city):
    assert city_of(region) == city


# --- enterprises ----------------------------------------------------------------


def test_an_enterprise_is_registered_when_identity_knows_it():
    facts, identity, *_ = gatherer(identity=FakeIdentity(enterprises={USCC}))
    assert facts.gather(["enterprise.registered"], context(principal=ENTERPRISE)) == {
        "enterprise.registered": True
    }
    assert identity.calls == [("get_enterprise", {"uscc": USCC})]


@pytest.mark.parametrize("refusal", [NotFound("enterprise not found"), Invalid("bad code")])
def test_an_enterprise_identity_does_not_know_is_not_registered(refusal):
    identity = FakeIdentity(fail={"get_enterprise": refusal})
    facts, *_ = gatherer(identity=identity)
    assert facts.gather(["enterprise.registered"], context(principal=ENTERPRISE)) == {
        "enterprise.registered": False
    }


def test_enterprise_registered_is_none_unless_the_application_is_for_one():
    facts, identity, *_ = gatherer()
    assert facts.gather(["enterprise.registered"], context()) == {"enterprise.registered": None}
    assert facts.gather(["enterprise.registered"], context(principal=PERSON)) == {
        "enterprise.registered": None
    }
    assert identity.calls == []


def test_for_an_enterprise_the_applicant_facts_are_the_agents_own():
    facts, identity, *_ = gatherer(identity=FakeIdentity(enterprises={USCC}))
    assert facts.gather(["applicant.level"], context(principal=ENTERPRISE)) == {
        "applicant.level": 2
    }
    assert identity.calls == [
        ("person_facts", {"user_id": "u-applicant", "purpose": "automatic_decision"})
    ]


# --- what is asked --------------------------------------------------------------


def test_nothing_is_asked_for_no_facts_and_unknown_names_are_refused_first():
    facts, identity, exchange, licences = gatherer()
    assert facts.gather([], context()) == {}
    with pytest.raises(UnknownFact) as refused:
        facts.gather(["applicant.age", "applicant.shoe_size"], context())
    assert refused.value.names == ["applicant.shoe_size"]
    assert identity.calls == exchange.calls == licences.calls == []


def test_every_fact_at_once_asks_each_source_once():
    exchange = FakeDataExchange(
        marriages={ME: married()}, homes={(ME, "320100"): 1, (SPOUSE, "320100"): 0}
    )
    identity = FakeIdentity(enterprises={USCC})
    facts, identity, exchange, licences = gatherer(identity=identity, exchange=exchange)
    found = facts.gather(sorted(FACTS), context(principal=ENTERPRISE))
    assert set(found) == FACTS
    assert [method for method, _ in identity.calls] == ["person_facts", "get_enterprise"]
    assert [call[0] for call in exchange.calls].count("marriage_record") == 1
    assert len(licences.calls) == 1


def test_the_facts_are_the_ones_rules_may_name():
    from services.common import rules

    assert set(rules.FACTS) == FACTS


# --- sources that cannot answer -------------------------------------------------------


@pytest.mark.parametrize(
    "failure",
    [Unavailable("identity is not running"), Timeout("identity did not answer within 5s")],
)
def test_identity_not_answering_is_reported(failure):
    facts, *_ = gatherer(identity=FakeIdentity(fail={"person_facts": failure}))
    with pytest.raises(FactsUnavailable) as unavailable:
        facts.gather(["applicant.age"], context())
    assert unavailable.value.source == IDENTITY
    assert "did not answer" in unavailable.value.reason or "not running" in str(unavailable.value)


def test_an_applicant_identity_does_not_know_is_reported_not_guessed():
    facts, *_ = gatherer(identity=FakeIdentity(fail={"person_facts": NotFound("user not found")}))
    with pytest.raises(FactsUnavailable) as unavailable:
        facts.gather(["applicant.level"], context())
    assert unavailable.value.source == IDENTITY


def test_an_unreadable_person_answer_is_reported():
    def rpc(service, method, **arguments):
        return {"user_id": "u-applicant", "level": 2, "id_number": ME, "birth_date": "soon"}

    facts = FactGatherer(rpc=rpc, data_exchange=FakeDataExchange(), licences=FakeLicences())
    with pytest.raises(FactsUnavailable) as unavailable:
        facts.gather(["applicant.age"], context())
    assert unavailable.value.source == IDENTITY


def test_identity_not_answering_about_an_enterprise_is_reported():
    identity = FakeIdentity(fail={"get_enterprise": Unavailable("identity is not running")})
    facts, *_ = gatherer(identity=identity)
    with pytest.raises(FactsUnavailable) as unavailable:
        facts.gather(["enterprise.registered"], context(principal=ENTERPRISE))
    assert unavailable.value.source == IDENTITY


@pytest.mark.parametrize(
    "failure",
    [
        DataExchangeUnavailable(
            "data exchange POST /api/civil-affairs/marital-status answered 503"
        ),
        DataExchangeRejected(400, "invalid query", {"id_number": f"{ME} has a bad check digit"}),
    ],
)
def test_civil_affairs_not_answering_is_reported_without_the_number(failure):
    exchange = FakeDataExchange(fail={"marriage_record": failure})
    facts, *_ = gatherer(exchange=exchange)
    for fact in ("civil_affairs.marital_status", "housing.homes_owned"):
        with pytest.raises(FactsUnavailable) as unavailable:
            facts.gather([fact], context())
        assert unavailable.value.source == CIVIL_AFFAIRS
        assert ME not in unavailable.value.reason and ME not in str(unavailable.value)


def test_housing_not_answering_is_reported_even_for_the_spouse_alone():
    failure = DataExchangeUnavailable("data exchange POST /api/housing/homes-owned answered 503")
    exchange = FakeDataExchange(
        marriages={ME: married()},
        homes={(ME, "320100"): 0},
        fail={("homes_owned", SPOUSE): failure},
    )
    facts, *_ = gatherer(exchange=exchange)
    with pytest.raises(FactsUnavailable) as unavailable:
        facts.gather(["housing.homes_owned"], context())
    assert unavailable.value.source == HOUSING
    assert "503" in unavailable.value.reason


def test_a_marriage_without_the_spouse_cannot_be_counted():
    exchange = FakeDataExchange(marriages={ME: MarriageRecord("married", None)})
    facts, *_ = gatherer(exchange=exchange)
    with pytest.raises(FactsUnavailable) as unavailable:
        facts.gather(["housing.homes_owned"], context())
    assert unavailable.value.source == CIVIL_AFFAIRS


def test_licences_not_answering_are_reported():
    facts, *_ = gatherer(licences=FakeLicences(fail=Unavailable("database is down")))
    with pytest.raises(FactsUnavailable) as unavailable:
        facts.gather(["applicant.licences"], context())
    assert (unavailable.value.source, unavailable.value.reason) == (
        LICENCES,
        "Unavailable: database is down",
    )


def test_facts_unavailable_is_plain_python():
    assert FactsUnavailable.__mro__[1:] == (Exception, BaseException, object)
    error = FactsUnavailable("housing", "answered 503")
    assert (error.source, error.reason, str(error)) == (
        "housing",
        "answered 503",
        "housing cannot answer: answered 503",
    )


def test_the_context_repr_carries_no_id_number():
    assert PRINCIPAL not in repr(context(principal=PERSON))


def test_the_context_of_a_case():
    case = SimpleNamespace(applicant_id="u-1", on_behalf_of=PERSON, region_code="320104")
    assert CaseContext.of(case, TODAY) == CaseContext(
        applicant_id="u-1", region_code="320104", today=TODAY, principal=PERSON
    )
