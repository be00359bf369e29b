"""The wire format the gateway owns itself: errors, empty bodies, the webhook's
acknowledgement and the health answers.

Every other request and answer is the owning service's contract
(``services/<name>/contract.py``): the routes name those schemas directly.
"""

from marshmallow import Schema, fields, validate


class ErrorDetail(Schema):
    code = fields.String(required=True, metadata={"example": "invalid"})
    message = fields.String(required=True, metadata={"example": "invalid input"})
    field_reasons = fields.Dict(
        data_key="fields",
        required=True,
        keys=fields.String(),
        values=fields.String(),
        metadata={
            "description": "reason per bad field (dotted path for nested fields)",
            "example": {"delivery.address.postcode": "must be 6 digits"},
        },
    )


class Error(Schema):
    """Every 4xx and 5xx answer."""

    error = fields.Nested(ErrorDetail, required=True)


class Empty(Schema):
    """No body (or ``{}``)."""


class Status(Schema):
    status = fields.String(required=True, validate=validate.Equal("ok"))


class Health(Schema):
    status = fields.String(required=True, validate=validate.Equal("ok"))
    service = fields.String(required=True, metadata={"example": "gateway"})


class Readiness(Schema):
    status = fields.String(required=True, validate=validate.OneOf(("ready", "not ready")))
    checks = fields.Dict(
        required=True,
        keys=fields.String(),
        values=fields.String(),
        metadata={"example": {"jwks": "ok", "broker": "ok"}},
    )
