"""docs/contracts.md names exactly what each service's contract holds.

The page is written by hand for people; this test reads the machine-checkable
lines in it and compares them with the code, service by service (the roster's
``SERVICES``):

- under ``## <service>``, after a line ``RPC``, one line per RPC method,
  ``- `method(arg1, arg2?) -> answer` prose``: the methods are exactly the
  service class's ``@rpc`` methods, the arguments exactly the field names of the
  method's request schema (none for a method without one), and an argument ends
  with ``?`` exactly when its field is not required. Arguments are named, never
  positional, so their order on the page is free;
- after a line ``Events (exchange `<service>.events`)``, one line per event,
  ``- `event_type {field1, field2}` prose``: the events are exactly the
  contract's ``EVENTS`` and the fields exactly each payload schema's;
- a ``Consumes:`` paragraph names every ``source.event_type`` the service's
  ``@handles`` handlers take, and nothing else (``Consumes: nothing.``).
"""

import functools
import importlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from operations.roster import SERVICES, service_class
from services.common.entrypoints import ContractEventHandler, ContractRpc, contract_entrypoints

DOC = Path(__file__).resolve().parents[3] / "docs" / "contracts.md"

NAME = r"[a-z_][a-z0-9_]*"
HEADING = re.compile(r"^## (?P<title>.+?)\s*$")
RPC_HEADER = re.compile(r"^RPC\s*$")
EVENTS_HEADER = re.compile(r"^Events \(exchange `(?P<exchange>[^`]+)`\)\s*$")
CONSUMES_HEADER = re.compile(r"^Consumes:")
RPC_LINE = re.compile(rf"^- `(?P<name>{NAME})\((?P<arguments>[^)`]*)\)(?: -> [^`]+)?`")
EVENT_LINE = re.compile(rf"^- `(?P<type>{NAME}) \{{(?P<fields>[^}}`]*)\}}`")
ARGUMENT = re.compile(rf"^(?P<name>{NAME})(?P<optional>\??)$")
CONSUMED = re.compile(rf"`(?P<source>{NAME})\.(?P<type>{NAME})`")


@dataclass
class Section:
    """What the page documents of one service."""

    # method -> {argument: optional}
    rpc: dict[str, dict[str, bool]] = field(default_factory=dict)
    # event type -> field names
    events: dict[str, list[str]] = field(default_factory=dict)
    exchange: str | None = None
    # "source.event_type"; None when the section has no Consumes: paragraph
    consumes: set[str] | None = None
    # where each method's line is (1-based), to show a drift in a message
    rpc_lines: dict[str, int] = field(default_factory=dict)


@dataclass
class Page:
    sections: dict[str, Section] = field(default_factory=dict)
    # lines in the RPC and Events lists that do not read as the format says
    problems: list[str] = field(default_factory=list)


def _names(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def read_page(text: str) -> Page:
    """The RPC, event and consumer lines of every ``## <service>`` section."""
    page = Page()
    title, section, mode = None, None, None
    for number, line in enumerate(text.splitlines(), start=1):
        where = f"docs/contracts.md:{number}"
        heading = HEADING.match(line)
        if heading:
            title, mode = heading["title"], None
            section = page.sections.setdefault(title, Section())
            continue
        if not line.strip():
            # A blank line ends a Consumes: paragraph; a list may have blank lines.
            if mode == "consumes":
                mode = None
            continue
        if mode == "consumes":
            section.consumes.update(f"{m['source']}.{m['type']}" for m in CONSUMED.finditer(line))
            continue
        if mode in ("rpc", "events") and line.startswith("- "):
            if mode == "rpc":
                _read_rpc_line(page, section, title, line, number, where)
            else:
                _read_event_line(page, section, title, line, where)
            continue
        if mode in ("rpc", "events") and line[0].isspace():
            continue  # the prose of a list item, continued
        mode = None
        if section is None:
            continue
        if RPC_HEADER.match(line):
            mode = "rpc"
        elif events := EVENTS_HEADER.match(line):
            mode = "events"
            section.exchange = events["exchange"]
        elif CONSUMES_HEADER.match(line):
            mode = "consumes"
            section.consumes = section.consumes or set()
            section.consumes.update(f"{m['source']}.{m['type']}" for m in CONSUMED.finditer(line))
    return page


def _read_rpc_line(page: Page, section: Section, title, line: str, number: int, where: str):
    match = RPC_LINE.match(line)
    if match is None:
        page.problems.append(f"{where}: not an RPC line (- `method(a, b?) -> ...`): {line}")
        return
    method = match["name"]
    if method in section.rpc:
        page.problems.append(f"{where}: {title}.{method} is documented twice")
    arguments: dict[str, bool] = {}
    for argument in _names(match["arguments"]):
        parsed = ARGUMENT.match(argument)
        if parsed is None:
            page.problems.append(f"{where}: {title}.{method}: unreadable argument {argument!r}")
            continue
        if parsed["name"] in arguments:
            page.problems.append(f"{where}: {title}.{method} names {parsed['name']} twice")
        arguments[parsed["name"]] = bool(parsed["optional"])
    section.rpc[method] = arguments
    section.rpc_lines[method] = number


def _read_event_line(page: Page, section: Section, title, line: str, where: str):
    match = EVENT_LINE.match(line)
    if match is None:
        page.problems.append(f"{where}: not an event line (- `type {{a, b}}`): {line}")
        return
    event_type = match["type"]
    if event_type in section.events:
        page.problems.append(f"{where}: {title}.{event_type} is documented twice")
    names = _names(match["fields"])
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        page.problems.append(f"{where}: {title}.{event_type} repeats {', '.join(repeated)}")
    section.events[event_type] = names


# --- the code's side ----------------------------------------------------------


def _wire_names(schema, fields_attribute: str = "fields") -> dict[str, object]:
    """``{name on the wire: field}`` of a schema (class or instance)."""
    instance = schema() if isinstance(schema, type) else schema
    return {
        bound.data_key or name: bound for name, bound in getattr(instance, fields_attribute).items()
    }


@dataclass
class Code:
    rpc: dict[str, dict[str, bool]]
    events: dict[str, list[str]]
    consumes: set[str]


@functools.cache
def code_of(service: str) -> Code:
    """The service's RPC methods (argument -> may be left out), its contract's
    events (payload field names) and the events its handlers take."""
    service_cls = service_class(service)
    rpc, consumes = {}, set()
    for name, entrypoint in contract_entrypoints(service_cls):
        if isinstance(entrypoint, ContractRpc):
            fields = (
                {} if entrypoint.request is None else _wire_names(entrypoint.request, "load_fields")
            )
            rpc[name] = {argument: not bound.required for argument, bound in fields.items()}
        elif isinstance(entrypoint, ContractEventHandler):
            consumes.add(f"{entrypoint.source_service}.{entrypoint.event_type}")
    package = SERVICES[service].partition(":")[0].rpartition(".")[0]
    contract = importlib.import_module(f"{package}.contract")
    events = {
        event_type: list(_wire_names(schema)) for event_type, schema in contract.EVENTS.items()
    }
    return Code(rpc=rpc, events=events, consumes=consumes)


# --- the comparison -----------------------------------------------------------


def _listed(names) -> str:
    return ", ".join(sorted(names)) or "-"


def _set_difference(what: str, documented, actual) -> list[str]:
    problems = []
    if missing := set(actual) - set(documented):
        problems.append(f"{what} in the code but not on the page: {_listed(missing)}")
    if extra := set(documented) - set(actual):
        problems.append(f"{what} on the page but not in the code: {_listed(extra)}")
    return problems


def _argument_difference(method: str, documented: dict, actual: dict) -> list[str]:
    problems = [
        f"{method}: {problem}" for problem in _set_difference("arguments", documented, actual)
    ]
    shared = set(documented) & set(actual)
    if wrongly_optional := {name for name in shared if documented[name] and not actual[name]}:
        problems.append(
            f"{method}: marked `?` on the page but required by the request schema: "
            f"{_listed(wrongly_optional)}"
        )
    if wrongly_required := {name for name in shared if actual[name] and not documented[name]}:
        problems.append(
            f"{method}: may be left out (not required) but lacks `?` on the page: "
            f"{_listed(wrongly_required)}"
        )
    return problems


def rpc_differences(service: str, page: Page, code: Code) -> list[str]:
    section = page.sections.get(service)
    if section is None:
        return [f"no `## {service}` section"]
    problems = _set_difference("RPC methods", section.rpc, code.rpc)
    for method in sorted(set(section.rpc) & set(code.rpc)):
        line = section.rpc_lines[method]
        problems += [
            f"docs/contracts.md:{line}: {problem}"
            for problem in _argument_difference(method, section.rpc[method], code.rpc[method])
        ]
    return problems


def event_differences(service: str, page: Page, code: Code) -> list[str]:
    section = page.sections.get(service)
    if section is None:
        return [f"no `## {service}` section"]
    problems = []
    if section.exchange != f"{service}.events":
        problems.append(
            f"the Events list names exchange {section.exchange!r}, not {service}.events"
        )
    problems += _set_difference("events", section.events, code.events)
    for event_type in sorted(set(section.events) & set(code.events)):
        problems += [
            f"{event_type}: {problem}"
            for problem in _set_difference(
                "payload fields", section.events[event_type], code.events[event_type]
            )
        ]
    return problems


def consumer_differences(service: str, page: Page, code: Code) -> list[str]:
    section = page.sections.get(service)
    if section is None:
        return [f"no `## {service}` section"]
    if section.consumes is None:
        return ["no `Consumes:` line"]
    return _set_difference("consumed events", section.consumes, code.consumes)


def _fail_with(title: str, problems: list[str]) -> None:
    if problems:
        pytest.fail(f"{title}:\n- " + "\n- ".join(problems), pytrace=False)


def _differs(service: str) -> str:
    return f"docs/contracts.md differs from the {service} contract"


# --- the tests ----------------------------------------------------------------


@pytest.fixture(scope="module")
def page() -> Page:
    return read_page(DOC.read_text(encoding="utf-8"))


def test_every_rpc_and_event_line_reads_as_the_format_says(page):
    unknown = sorted(
        title
        for title, section in page.sections.items()
        if title not in SERVICES and (section.rpc or section.events or section.exchange)
    )
    problems = list(page.problems)
    if unknown:
        problems.append(f"RPC or Events lists under a heading that is no service: {unknown}")
    _fail_with("docs/contracts.md does not read as its format says", problems)


@pytest.mark.parametrize("service", list(SERVICES))
def test_the_rpc_methods_and_their_arguments_are_the_contract(page, service):
    _fail_with(_differs(service), rpc_differences(service, page, code_of(service)))


@pytest.mark.parametrize("service", list(SERVICES))
def test_the_events_and_their_fields_are_the_contract(page, service):
    _fail_with(_differs(service), event_differences(service, page, code_of(service)))


@pytest.mark.parametrize("service", list(SERVICES))
def test_the_consumed_events_are_the_handlers(page, service):
    _fail_with(_differs(service), consumer_differences(service, page, code_of(service)))


def _changed_line(text: str, number: int, old: str, new: str) -> str:
    """``text`` with ``old`` replaced by ``new`` in its line ``number`` (1-based)."""
    lines = text.splitlines()
    assert old in lines[number - 1], (old, lines[number - 1])
    lines[number - 1] = lines[number - 1].replace(old, new, 1)
    return "\n".join(lines)


def test_a_drift_on_the_page_is_caught(page):
    """The check itself: a renamed argument, a dropped `?` and a dropped payload
    field, each in a copy of the page, make differences that name them."""
    text = DOC.read_text(encoding="utf-8")
    documented = [(service, page.sections[service]) for service in SERVICES]

    service, section, method = next(
        (service, section, method)
        for service, section in documented
        for method, arguments in sorted(section.rpc.items())
        if arguments
    )
    argument = next(iter(section.rpc[method]))
    drifted = _changed_line(
        text, section.rpc_lines[method], f"{method}({argument}", f"{method}(renamed_{argument}"
    )
    found = rpc_differences(service, read_page(drifted), code_of(service))
    assert any(f"not in the code: renamed_{argument}" in problem for problem in found), found
    assert any(f"not on the page: {argument}" in problem for problem in found), found

    service, section, method, argument = next(
        (service, section, method, argument)
        for service, section in documented
        for method, arguments in sorted(section.rpc.items())
        for argument, optional in arguments.items()
        if optional
    )
    drifted = _changed_line(text, section.rpc_lines[method], f"{argument}?", argument)
    found = rpc_differences(service, read_page(drifted), code_of(service))
    assert any("lacks `?`" in problem and argument in problem for problem in found), found

    service, section = documented[0]
    event_type, names = next(iter(section.events.items()))
    original = f"`{event_type} {{{', '.join(names)}}}`"
    assert original in text
    drifted = text.replace(original, f"`{event_type} {{{', '.join(names[:-1])}}}`", 1)
    found = event_differences(service, read_page(drifted), code_of(service))
    assert any(f"not on the page: {names[-1]}" in problem for problem in found), found
