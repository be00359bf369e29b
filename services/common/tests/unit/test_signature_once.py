"""Entrypoints check a call's arguments against a signature worked out once."""

import functools

import pytest
from nameko.exceptions import IncorrectSignature

from services.common.entrypoints import SignatureOnce


def contract(method):
    @functools.wraps(method)
    def entrypoint(self, **arguments):
        return method(self, arguments)

    return entrypoint


class Service:
    def handle(self, envelope):
        return envelope

    @contract
    def call(self, request):
        return request

    def route(self, call, item_id, page=1):
        return call, item_id, page


class Container:
    service_cls = Service


class Entrypoint(SignatureOnce):
    def __init__(self, method_name):
        self.method_name = method_name
        self.container = Container()


def test_matching_arguments_pass_and_wrong_ones_are_refused_as_nameko_does():
    handler = Entrypoint("handle")
    handler.check_signature(({"id": 1},), {})
    with pytest.raises(IncorrectSignature, match="argument"):
        handler.check_signature((), {})
    with pytest.raises(IncorrectSignature):
        handler.check_signature(({}, {}), {})
    route = Entrypoint("route")
    route.check_signature(("call",), {"item_id": "x"})
    route.check_signature(("call",), {"item_id": "x", "page": 2})
    with pytest.raises(IncorrectSignature):
        route.check_signature(("call",), {"item_id": "x", "unknown": 1})


def test_a_wrapped_method_is_checked_as_it_is_called_not_as_it_was_written():
    rpc = Entrypoint("call")
    rpc.check_signature((), {"phone": "13900000001", "password": "x"})
    rpc.check_signature((), {})
    with pytest.raises(IncorrectSignature):
        rpc.check_signature(({"request": 1},), {})


def test_the_signature_is_worked_out_once(monkeypatch):
    handler = Entrypoint("handle")
    handler.check_signature(({},), {})
    import inspect

    def no_more(*_args, **_kwargs):
        raise AssertionError("signature worked out again")

    monkeypatch.setattr(inspect, "signature", no_more)
    handler.check_signature(({},), {})
