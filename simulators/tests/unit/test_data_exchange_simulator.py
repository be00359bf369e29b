"""The data exchange simulator: its registers, its HTTP API through werkzeug's
test client, the demo records as documented, and a real server on a free port."""

import re

import pytest
import requests
from werkzeug.test import Client

from simulators.data_exchange import demo
from simulators.data_exchange.__main__ import DEFAULT_API_KEY, DEFAULT_PORT, parse_args
from simulators.data_exchange.app import DataExchangeApi, SimulatorServer
from simulators.data_exchange.records import (
    RegisterDown,
    Registers,
    check_person,
    id_number_problem,
)

KEY = "test-key"
AUTH = {"X-Api-Key": KEY}
MARRIAGE = "/api/civil-affairs/marital-status"
HOMES = "/api/housing/homes-owned"
# Fresh numbers, on no demo register.
FRESH = "110105198001010032"
FRESH_SPOUSE = "110105198202020042"


@pytest.fixture
def api():
    return DataExchangeApi(Registers(demo.demo_people()), KEY)


@pytest.fixture
def client(api):
    return Client(api)


def post(client, path, body, headers=AUTH):
    response = client.post(path, json=body, headers=headers)
    return response.status_code, response.get_json()


def marriage(client, id_number):
    return post(client, MARRIAGE, {"id_number": id_number})


def homes(client, id_number, city="320100"):
    return post(client, HOMES, {"id_number": id_number, "city_code": city})


# --- the demo records, as demo.py documents them ------------------------------------


DOCUMENTED = {
    # id number: (marital status or None, spouse or None, {city: homes} or None)
    "320102199005150117": ("single", None, None),
    "320104198503120314": ("married", "320106198708210420", {"320100": 1}),
    "320106198708210420": ("married", "320104198503120314", {"320100": 0, "320500": 1}),
    "32010519790102053X": ("divorced", None, {"320100": 2}),
    "320113196209300645": ("widowed", None, {"320100": 0, "320200": 1}),
    "321002199506180758": ("single", None, {"320100": 1}),
    "320111199111110860": ("married", "320115198907040977", {"320100": 1}),
    "320115198907040977": ("married", "320111199111110860", {"320100": 1}),
    "320102199302280196": (None, None, None),
    "320104201006010282": ("single", None, None),
}


def test_the_docstring_lists_every_demo_number_with_a_valid_check_digit():
    listed = set(re.findall(r"\b[0-9]{17}[0-9X]\b", demo.__doc__))
    assert listed == set(DOCUMENTED)
    assert all(id_number_problem(number) is None for number in listed)
    assert {record["id_number"] for record in demo.DEMO_RECORDS} == set(DOCUMENTED) - {
        "320102199302280196"
    }


@pytest.mark.parametrize("id_number", sorted(DOCUMENTED))
def test_each_demo_person_is_as_documented(client, id_number):
    status, spouse, owned = DOCUMENTED[id_number]
    code, body = marriage(client, id_number)
    assert code == 200
    if status is None:
        assert body == {"result": "no_record"}
    else:
        assert body == {
            "result": "found",
            "record": {"marital_status": status, "spouse_id_number": spouse},
        }
    for city in ("320100", "320200", "320500", "320600"):
        code, body = homes(client, id_number, city)
        assert code == 200
        if owned is None:
            assert body == {"result": "no_record"}
        else:
            expected = {"city_code": city, "homes_owned": owned.get(city, 0)}
            assert body == {"result": "found", "record": expected}


def test_spouses_name_each_other():
    for number, (status, spouse, _) in DOCUMENTED.items():
        if status == "married":
            assert DOCUMENTED[spouse][1] == number


def test_a_lower_case_x_finds_the_same_person(client):
    assert marriage(client, "32010519790102053x")[1]["record"]["marital_status"] == "divorced"


# --- the API ------------------------------------------------------------------------


def test_health_needs_no_key(client):
    response = client.get("/healthz")
    assert (response.status_code, response.get_json()) == (200, {"status": "ok"})


@pytest.mark.parametrize(
    "path", [MARRIAGE, HOMES, "/admin/records", "/admin/outages"], ids=lambda p: p
)
@pytest.mark.parametrize("headers", [{}, {"X-Api-Key": "wrong"}], ids=["none", "wrong"])
def test_every_other_path_needs_the_key(client, path, headers):
    code, body = post(client, path, {"id_number": "320102199005150117"}, headers)
    assert code == 401
    assert body["error"]["code"] == "unauthorized"


def test_id_numbers_are_never_taken_in_a_url(client):
    assert client.get(MARRIAGE + "?id_number=320102199005150117", headers=AUTH).status_code == 405
    response = client.post("/api/civil-affairs/marital-status/320102199005150117", headers=AUTH)
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    ("path", "body", "fields"),
    [
        (MARRIAGE, {}, {"id_number"}),
        (MARRIAGE, {"id_number": "320102199005150118"}, {"id_number"}),
        (MARRIAGE, {"id_number": "320102199013150117"}, {"id_number"}),
        (MARRIAGE, {"id_number": 320102199005150117}, {"id_number"}),
        (MARRIAGE, {"id_number": "320102199005150117", "name": "张三"}, {"name"}),
        (MARRIAGE, [], {"body"}),
        (HOMES, {"id_number": "320102199005150117"}, {"city_code"}),
        (HOMES, {"id_number": "320102199005150117", "city_code": "320000"}, {"city_code"}),
        (HOMES, {"id_number": "320102199005150117", "city_code": "320102"}, {"city_code"}),
        (HOMES, {"id_number": "320102199005150117", "city_code": "3201"}, {"city_code"}),
    ],
)
def test_a_bad_query_is_400_naming_the_field_without_echoing_it(client, path, body, fields):
    code, answer = post(client, path, body)
    assert code == 400
    assert answer["error"]["code"] == "invalid"
    assert set(answer["error"]["fields"]) == fields
    assert "320102199005150117" not in str(answer)


def test_a_body_that_is_not_json_is_400(client):
    response = client.post(MARRIAGE, data="{not json", headers=AUTH)
    assert response.status_code == 400


# --- records added over HTTP ----------------------------------------------------------


def test_a_test_gives_a_fresh_person_a_situation(client):
    assert marriage(client, FRESH) == (200, {"result": "no_record"})
    code, body = post(
        client,
        "/admin/records",
        {
            "id_number": FRESH,
            "civil_affairs": {"marital_status": "married", "spouse_id_number": FRESH_SPOUSE},
            "housing": {"homes_owned": {"320100": 1}},
        },
    )
    assert (code, body) == (200, {"changed": ["civil_affairs", "housing"]})
    assert marriage(client, FRESH)[1]["record"] == {
        "marital_status": "married",
        "spouse_id_number": FRESH_SPOUSE,
    }
    assert homes(client, FRESH)[1]["record"]["homes_owned"] == 1
    # Only the register given changes; null removes the person from it.
    assert post(client, "/admin/records", {"id_number": FRESH, "housing": None}) == (
        200,
        {"changed": ["housing"]},
    )
    assert homes(client, FRESH) == (200, {"result": "no_record"})
    assert marriage(client, FRESH)[1]["result"] == "found"


@pytest.mark.parametrize(
    ("record", "fields"),
    [
        ({"civil_affairs": {"marital_status": "single"}}, {"id_number"}),
        ({"id_number": FRESH}, {"body"}),
        ({"id_number": FRESH, "civil_affairs": {"marital_status": "engaged"}}, None),
        ({"id_number": FRESH, "civil_affairs": {"marital_status": "married"}}, None),
        (
            {
                "id_number": FRESH,
                "civil_affairs": {"marital_status": "married", "spouse_id_number": FRESH},
            },
            None,
        ),
        (
            {
                "id_number": FRESH,
                "civil_affairs": {"marital_status": "single", "spouse_id_number": FRESH_SPOUSE},
            },
            None,
        ),
        ({"id_number": FRESH, "housing": {"homes_owned": {"320000": 1}}}, None),
        ({"id_number": FRESH, "housing": {"homes_owned": {"320100": -1}}}, None),
        ({"id_number": FRESH, "housing": {"homes_owned": {"320100": True}}}, None),
        ({"id_number": FRESH, "housing": {"320100": 1}}, {"housing"}),
        ({"id_number": FRESH, "housing": None, "owner": "x"}, {"owner"}),
    ],
)
def test_a_bad_record_is_refused_and_changes_nothing(client, record, fields):
    code, body = post(client, "/admin/records", record)
    assert code == 400
    assert body["error"]["code"] == "invalid"
    if fields is not None:
        assert set(body["error"]["fields"]) == fields
    assert marriage(client, FRESH) == (200, {"result": "no_record"})
    assert homes(client, FRESH) == (200, {"result": "no_record"})


def test_a_register_taken_down_answers_503_until_it_is_back(client):
    assert post(client, "/admin/outages", {"register": "civil_affairs", "down": True}) == (
        200,
        {"down": ["civil_affairs"]},
    )
    code, body = marriage(client, "320102199005150117")
    assert code == 503 and body["error"]["code"] == "unavailable"
    assert homes(client, "320104198503120314")[0] == 200  # housing is still up
    assert post(client, "/admin/outages", {"register": "civil_affairs", "down": False}) == (
        200,
        {"down": []},
    )
    assert marriage(client, "320102199005150117")[0] == 200


@pytest.mark.parametrize(
    "body",
    [{}, {"register": "tax", "down": True}, {"register": "housing", "down": "yes"}, []],
)
def test_a_bad_outage_is_refused(client, body):
    assert post(client, "/admin/outages", body)[0] == 400


def test_the_registers_say_no_record_and_down_distinctly():
    registers = Registers()
    person, problems = check_person({"id_number": FRESH, "housing": {"homes_owned": {}}})
    assert problems == {}
    registers.put(person)
    assert registers.marriage(FRESH) is None
    assert registers.homes_owned(FRESH, "320100") == {"city_code": "320100", "homes_owned": 0}
    registers.set_down("housing", True)
    with pytest.raises(RegisterDown):
        registers.homes_owned(FRESH, "320100")


# --- the process ----------------------------------------------------------------------


def test_host_and_port_come_from_the_environment_and_flags_win():
    args = parse_args([], {})
    assert (args.host, args.port, args.no_demo) == ("127.0.0.1", DEFAULT_PORT, False)
    environ = {"DATA_EXCHANGE_HOST": "0.0.0.0", "DATA_EXCHANGE_PORT": "9300"}  # noqa: S104
    args = parse_args([], environ)
    assert (args.host, args.port) == ("0.0.0.0", 9300)  # noqa: S104
    args = parse_args(["--port", "9400", "--no-demo"], environ)
    assert (args.port, args.no_demo) == (9400, True)
    assert DEFAULT_API_KEY == "dev-data-exchange-api-key"


def test_a_real_server_answers_over_http():
    with SimulatorServer("127.0.0.1", 0, api_key=KEY, registers=Registers()) as server:
        assert requests.get(f"{server.url}/healthz", timeout=2).json() == {"status": "ok"}
        answer = requests.post(
            server.url + MARRIAGE, json={"id_number": FRESH}, headers=AUTH, timeout=2
        )
        assert (answer.status_code, answer.json()) == (200, {"result": "no_record"})
