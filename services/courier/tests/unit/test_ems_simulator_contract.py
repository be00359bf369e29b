"""What the EMS simulator (simulators/ems, EMS's side) and our side must agree on:
courier reads every waybill number it issues, and the gateway's signature check
(services.common.ems_signature) accepts the webhooks it signs and refuses them
signed with another secret."""

import json
import threading

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from services.common import ems_signature
from services.courier.domain.tracking_numbers import is_valid_tracking_number
from simulators.ems import signature
from simulators.ems.app import SimulatorServer
from simulators.ems.tracking_numbers import make_tracking_number

SECRET = b"test-webhook-secret"
ADDRESS = {
    "name": "张三",
    "phone": "13800138000",
    "province": "江苏省",
    "city": "苏州市",
    "district": "姑苏区",
    "street": "人民路100号",
    "postcode": "215000",
}
ORDER = {"sender": ADDRESS, "recipient": ADDRESS, "reference": "app-1", "kind": "result"}


def test_courier_reads_every_number_the_simulator_issues():
    serials = [0, 1, 9, 12345678, 99999999, *range(10_000_000, 10_000_000 + 11 * 500, 11)]
    for serial in serials:
        assert is_valid_tracking_number(make_tracking_number(serial)), serial
    assert is_valid_tracking_number(make_tracking_number(4242, "EB"))


def test_the_gateway_checks_the_headers_the_simulator_signs():
    assert (signature.TIMESTAMP_HEADER, signature.SIGNATURE_HEADER) == (
        ems_signature.TIMESTAMP_HEADER,
        ems_signature.SIGNATURE_HEADER,
    )
    body = json.dumps({"tracking_no": "EA123456785CN", "status": "accepted"}).encode()
    headers = signature.signed_headers(SECRET, body, now=1_790_000_000)
    timestamp, signed = headers[signature.TIMESTAMP_HEADER], headers[signature.SIGNATURE_HEADER]
    assert ems_signature.verify(SECRET, timestamp, body, signed, now=1_790_000_010)
    assert not ems_signature.verify(b"another", timestamp, body, signed, now=1_790_000_010)
    assert not ems_signature.verify(SECRET, timestamp, body + b" ", signed, now=1_790_000_010)


class Receiver:
    """The gateway's webhook as far as signatures go: 204 for a good one, 401 else."""

    def __init__(self):
        self.accepted = []
        self.refused = 0
        self.delivered = threading.Event()
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server.server_port}/api/v1/webhooks/ems"

    @Request.application
    def app(self, request):
        body = request.get_data()
        if not ems_signature.verify(
            SECRET,
            request.headers.get(ems_signature.TIMESTAMP_HEADER),
            body,
            request.headers.get(ems_signature.SIGNATURE_HEADER),
        ):
            self.refused += 1
            return Response("bad signature", status=401)
        payload = json.loads(body)
        self.accepted.append(payload)
        if payload["status"] == "delivered":
            self.delivered.set()
        return Response(status=204)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc_info):
        self.server.shutdown()
        self.server.server_close()


def test_every_scan_the_simulator_sends_passes_the_gateways_check():
    with (
        Receiver() as receiver,
        SimulatorServer(
            "127.0.0.1",
            0,
            api_key="k",
            webhook_url=receiver.url,
            webhook_secret=SECRET,
            step_seconds=0.02,
            webhook_attempts=1,
        ) as server,
    ):
        order, _ = server.simulator.create_order("key-1", ORDER)
        assert receiver.delivered.wait(10), receiver.accepted
    assert receiver.refused == 0
    assert len(receiver.accepted) == 5
    assert all(scan["tracking_no"] == order["tracking_no"] for scan in receiver.accepted)
    assert is_valid_tracking_number(order["tracking_no"])
