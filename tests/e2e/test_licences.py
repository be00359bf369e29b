"""Electronic licences that travel (电子证照, 材料复用), end to end through the
gateway: a licence issued by a normal errand is a signed document its holder
fetches, anyone verifies (a tampered copy is refused), the issuing department
revokes, and the holder reuses as material in another application; a licence
of js-ga's own workflow instance verifies, and is reused, through the gateway
too.

320000-JSSCJG-004 (营业执照, js-amr, the shared instance) and 320000-JSGAT-003
(保安服务许可证, js-ga's own instance, reviewed jointly with js-amr).
"""

import copy
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from services.workflow.domain.licences import b64url_decode
from tests.e2e.approvals import case, citizen, item, operator, staff
from tests.e2e.test_journey import Client, eventually

pytestmark = pytest.mark.e2e

BUSINESS_LICENCE = "320000-JSSCJG-004"
FOOD_PRODUCTION = "320000-JSSCJG-001"
SECURITY_SERVICE = "320000-JSGAT-003"


@pytest.fixture(scope="module", autouse=True)
def watch(log_watch):
    return log_watch()


@pytest.fixture(scope="module")
def people(cluster):
    base = cluster.gateway_url
    boss = operator(base)
    return {
        "amr": staff(boss, "js-amr", "window_clerk", "approver", name="市监审批"),
        "amr_admin": staff(boss, "js-amr", "dept_admin", name="市监管理员"),
        "ga": staff(boss, "js-ga", "window_clerk", "approver", name="公安审批"),
    }


def apply(applicant: Client, guide: dict, materials: list, expect: int = 201):
    mode = "online" if "online" in guide["modes"] else "window"
    response = applicant.post(
        "/api/v1/applications",
        json={
            "item_id": guide["item_id"],
            "form": {"company": "老王面馆有限公司"},
            "materials": materials,
            "delivery": {"mode": mode},
        },
    )
    assert response.status_code == expect, response.text
    return response.json()


def approved_to_the_end(applicant: Client, application_id: str, workers: list[Client]) -> dict:
    """Accept and approve every step, each by a worker who has it; the case
    once its licence is issued."""
    for _ in range(10):
        view = None
        for worker in workers:
            view = case(worker, application_id)
            wanted = [
                entry
                for entry in view["available_actions"]
                if entry["action"] in ("accept", "approve")
            ]
            if wanted:
                response = worker.post(
                    f"/api/v1/applications/{application_id}/actions",
                    json={
                        "action": wanted[0]["action"],
                        "step": wanted[0]["step"],
                        "comment": "ok",
                    },
                )
                assert response.status_code == 200, response.text
                break
        else:
            break
    return eventually(
        lambda: (lambda view: view if view["licence_no"] else None)(
            case(applicant, application_id)
        ),
        timeout=20,
        what="the licence to be issued",
    )


def signature_holds(document: dict, jwks: dict) -> bool:
    """Checked here as any outside verifier would: the JWKS key of the kid,
    Ed25519 over the canonical JSON (sorted keys, no whitespace, UTF-8)."""
    signature = document["signature"]
    key = next(entry for entry in jwks["keys"] if entry["kid"] == signature["kid"])
    data = json.dumps(
        document["licence"], sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode("utf-8")
    try:
        Ed25519PublicKey.from_public_bytes(b64url_decode(key["x"])).verify(
            b64url_decode(signature["value"]), data
        )
    except Exception:  # noqa: BLE001  (any failure is "does not hold")
        return False
    return True


def test_a_licence_is_issued_signed_verified_revoked_and_reused(cluster, people):
    base = cluster.gateway_url
    holder, _ = citizen(base, "王老板")
    stranger, _ = citizen(base, "李路人")
    public = Client(base)

    guide = item(holder, BUSINESS_LICENCE)
    application_id = apply(holder, guide, [{"name": m["name"]} for m in guide["materials"]])[
        "application_id"
    ]
    issued = approved_to_the_end(holder, application_id, [people["amr"]])
    licence_no = issued["licence_no"]
    assert licence_no.startswith("1.2.156.3005.2.YYZZ.")

    # The holder fetches the signed document; a stranger cannot.
    response = holder.get(f"/api/v1/licences/{licence_no}")
    assert response.status_code == 200, response.text
    view = response.json()
    document = view["document"]
    assert document["licence"]["licence_no"] == licence_no
    assert document["licence"]["licence_type"] == {"code": "YYZZ", "name": "营业执照"}
    assert document["licence"]["valid_to"] is None
    assert view["qr_payload"].endswith(f"/api/v1/licences/{licence_no}/verify")
    assert stranger.get(f"/api/v1/licences/{licence_no}").status_code == 404
    assert people["amr"].get(f"/api/v1/licences/{licence_no}").status_code == 200

    # Anyone checks it: by number, by the document, by the published key.
    checked = public.get(f"/api/v1/licences/{licence_no}/verify")
    assert checked.status_code == 200, checked.text
    assert checked.json()["valid"] is True and checked.json()["failed"] == []
    jwks = public.get("/api/v1/licences/jwks.json")
    assert jwks.status_code == 200, jwks.text
    assert signature_holds(document, jwks.json())
    presented = public.post("/api/v1/licences/verify", json={"document": document})
    assert presented.status_code == 200, presented.text
    assert presented.json()["valid"] is True

    # A tampered copy is refused, and says why; a non-document is 422.
    tampered = copy.deepcopy(document)
    tampered["licence"]["holder"]["id"] = "someone-else"
    refused = public.post("/api/v1/licences/verify", json={"document": tampered})
    assert refused.status_code == 200, refused.text
    assert refused.json()["valid"] is False
    assert "signature" in refused.json()["failed"]
    assert not signature_holds(tampered, jwks.json())
    malformed = public.post("/api/v1/licences/verify", json={"document": {"licence": {}}})
    assert malformed.status_code == 422, malformed.text

    # Reused as material: the holder's passes (named from the licence); a
    # stranger's use of it is refused naming the material.
    food = item(holder, FOOD_PRODUCTION)
    materials = [{"name": m["name"]} for m in food["materials"]] + [{"licence_no": licence_no}]
    reused = apply(holder, food, materials)
    shown = case(holder, reused["application_id"])["materials"][-1]
    assert shown["licence_no"] == licence_no and shown["name"] == "营业执照"
    assert shown["licence"]["holder_id"] == issued["applicant_id"]
    index = len(materials) - 1
    refused = apply(stranger, food, materials, expect=422)
    assert f"materials.{index}.licence_no" in refused["error"]["fields"]

    # Only the issuing department's admin revokes; verification then says so.
    reason = {"reason": "登记事项虚假，撤销登记"}
    assert (
        people["amr"].post(f"/api/v1/licences/{licence_no}/revoke", json=reason).status_code == 403
    )
    revoked = people["amr_admin"].post(f"/api/v1/licences/{licence_no}/revoke", json=reason)
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["failed"] == ["revocation"]
    checked = public.get(f"/api/v1/licences/{licence_no}/verify").json()
    assert checked["valid"] is False and checked["checks"]["revocation"] == "revoked"
    assert checked["revocation_reason"] == "登记事项虚假，撤销登记"
    again = people["amr_admin"].post(f"/api/v1/licences/{licence_no}/revoke", json=reason)
    assert again.status_code == 409
    refused = apply(holder, food, materials, expect=422)
    assert refused["error"]["fields"][f"materials.{index}.licence_no"] == "the licence is revoked"


def test_a_licence_of_a_department_instance_verifies_and_travels(cluster, people):
    base = cluster.gateway_url
    holder, _ = citizen(base, "赵保安")
    public = Client(base)

    guide = item(holder, SECURITY_SERVICE)
    assert guide["handled_by"] == "workflow-js-ga"
    application_id = apply(holder, guide, [{"name": m["name"]} for m in guide["materials"]])[
        "application_id"
    ]
    assert application_id.startswith("js-ga.")
    licence_no = approved_to_the_end(holder, application_id, [people["ga"], people["amr"]])[
        "licence_no"
    ]
    # No instance prefix in the number: its issuer (js-ga's USCC) routes it.
    assert licence_no.startswith("1.2.156.3005.2.BAFWXK.")

    checked = public.get(f"/api/v1/licences/{licence_no}/verify")
    assert checked.status_code == 200, checked.text
    assert checked.json()["valid"] is True
    document = holder.get(f"/api/v1/licences/{licence_no}").json()["document"]
    assert signature_holds(document, public.get("/api/v1/licences/jwks.json").json())
    presented = public.post("/api/v1/licences/verify", json={"document": document})
    assert presented.json()["valid"] is True, presented.text
    assert licence_no in [
        entry["licence_no"] for entry in holder.get("/api/v1/licences").json()["items"]
    ]

    # Reused in an application of the shared instance: asked of js-ga's.
    food = item(holder, FOOD_PRODUCTION)
    materials = [{"name": m["name"]} for m in food["materials"]] + [{"licence_no": licence_no}]
    reused = apply(holder, food, materials)
    shown = case(holder, reused["application_id"])["materials"][-1]
    assert shown["name"] == "保安服务许可证" and shown["licence"]["licence_no"] == licence_no
    stranger, _ = citizen(base, "钱路人")
    refused = apply(stranger, food, materials, expect=422)
    assert f"materials.{len(materials) - 1}.licence_no" in refused["error"]["fields"]
