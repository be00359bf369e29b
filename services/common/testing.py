"""What every service's tests build the same way: actors, event envelopes, the
outbox of a unit of work, and the check that a dumped answer is exactly what its
contract documents.

Test code only; nothing in a running service imports it.
"""

from __future__ import annotations

import sqlalchemy as sa

from services.common.messaging.envelope import make_envelope


def actor(
    user_id: str,
    kind: str = "citizen",
    *,
    roles=(),
    department_code: str | None = None,
    name: str | None = None,
    level: int | None = 2,
) -> dict:
    """The ``actor`` argument of a command, as the gateway builds it from a token."""
    return {
        "user_id": user_id,
        "kind": kind,
        "roles": list(roles),
        "department_code": department_code,
        "name": name if name is not None else user_id,
        "level": level,
    }


def citizen(user_id: str = "u-citizen", **kwargs) -> dict:
    return actor(user_id, "citizen", **kwargs)


def staff(user_id: str, department_code: str, *roles: str, **kwargs) -> dict:
    return actor(user_id, "staff", roles=roles, department_code=department_code, **kwargs)


def operator(user_id: str = "u-operator", **kwargs) -> dict:
    return actor(user_id, "operator", **kwargs)


def envelope(source: str, event_type: str, payload: dict, **meta) -> dict:
    """An event as a consumer receives it (``meta``: event_id, correlation_id, ...)."""
    return make_envelope(source, event_type, payload, **meta)


def delivered(event: dict, payload_schema) -> dict:
    """``event`` (an envelope) as a kit handler hands it to its method: the
    payload loaded with the producer's ``payload_schema``, unknown fields ignored."""
    from marshmallow import EXCLUDE

    schema = payload_schema if isinstance(payload_schema, type) else type(payload_schema)
    return {**event, "payload": schema(unknown=EXCLUDE).load(event["payload"])}


def outbox(uow) -> list[dict]:
    """The envelopes a unit of work wrote to its outbox, oldest first."""
    table = uow.metadata.tables["outbox"]
    with uow:
        rows = uow.session.execute(sa.select(table.c.envelope).order_by(table.c.seq))
        return [row.envelope for row in rows]


def clear_outbox(uow) -> None:
    with uow:
        uow.session.execute(uow.metadata.tables["outbox"].delete())
        uow.commit()


def json_schema_of(schema) -> dict:
    """The JSON schema the OpenAPI document gives ``schema`` (a class or an
    instance), with every nested schema inlined: plain JSON schema, as a
    validator takes it."""
    from apispec import APISpec
    from apispec.ext.marshmallow import MarshmallowPlugin

    spec = APISpec(
        title="contract", version="1", openapi_version="3.1.0", plugins=[MarshmallowPlugin()]
    )
    spec.components.schema("Root", schema=schema)
    components = spec.to_dict()["components"]["schemas"]
    return _inlined(components["Root"], components)


def _inlined(node, components: dict):
    if isinstance(node, list):
        return [_inlined(item, components) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        return _inlined(components[node["$ref"].rsplit("/", 1)[1]], components)
    return {key: _inlined(value, components) for key, value in node.items()}


def assert_documented(schema, answer) -> None:
    """Fail unless ``answer`` (JSON) is exactly what ``schema`` documents: every
    required field present, no field it does not name, null only where nullable,
    every value of its documented type and format."""
    import jsonschema_rs

    validator = jsonschema_rs.Draft7Validator(json_schema_of(schema), validate_formats=True)
    problems = sorted(
        f"{'/'.join(str(p) for p in error.instance_path) or '(root)'}: {error.message}"
        for error in validator.iter_errors(answer)
    )
    assert not problems, "answer does not match its documented schema:\n" + "\n".join(problems)
