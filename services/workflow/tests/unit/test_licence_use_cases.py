"""Licences through the use cases on SQLite: issued signed, read by their
holder, verified (a tampered copy refused), revoked, reused as material, and
old licences (JS numbers) carried on."""

import copy
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from services.common.instances import default_issuer_uscc
from services.common.testing import outbox, staff
from services.workflow.adapters import orm
from services.workflow.domain import exceptions as domain
from services.workflow.domain.licences import b64url_decode, canonical_json, parse_number
from services.workflow.service_layer import licences, use_cases

from .conftest import (
    APPLICANT,
    APPROVER,
    CLERK,
    DEPT_ADMIN,
    FORM,
    LATER,
    MATERIALS,
    NOW,
    OPERATOR,
    OTHER_CITIZEN,
    OWN,
    item,
    statements_sent,
)

ONLINE = {"mode": "online"}
LICENCE_TYPE = {"code": "SPJY", "name": "食品经营许可证", "valid_years": 5}
ISSUER = "11320102MB0123456K"


def issued(uow, actor=APPLICANT, **changes) -> str:
    """A case approved to the end; its licence number."""
    changes.setdefault("joint_departments", [])
    application = use_cases.submit_application(
        uow, item(**changes), actor, FORM, MATERIALS, ONLINE, now=NOW
    )
    use_cases.act(uow, CLERK, application.application_id, "accept", now=NOW)
    return use_cases.act(uow, APPROVER, application.application_id, "approve", now=LATER).licence_no


def test_a_licence_is_numbered_by_its_type_and_issuer_and_signed(uow):
    licence_no = issued(uow, licence_type=LICENCE_TYPE, issuer_uscc=ISSUER)
    parts = parse_number(licence_no)
    assert (parts.type_code, parts.issuer_uscc, parts.version) == ("SPJY", ISSUER, 1)
    view = licences.get_licence(uow, APPLICANT, licence_no)
    body = view["document"]["licence"]
    assert body["licence_no"] == licence_no
    assert body["holder"] == {"kind": "person", "id": APPLICANT["user_id"], "name": None}
    assert body["issuer"] == {"department_code": OWN, "uscc": ISSUER}
    assert body["licence_type"] == {"code": "SPJY", "name": "食品经营许可证"}
    assert (body["valid_from"], body["valid_to"]) == ("2026-10-08", "2031-10-07")
    assert body["content"] == FORM
    # Anyone with the published key checks the signature, without us.
    signature = view["document"]["signature"]
    jwks = licences.licence_jwks(uow)["keys"]
    key = next(entry for entry in jwks if entry["kid"] == signature["kid"])
    assert (key["kty"], key["crv"], key["alg"]) == ("OKP", "Ed25519", "EdDSA")
    Ed25519PublicKey.from_public_bytes(b64url_decode(key["x"])).verify(
        b64url_decode(signature["value"]), canonical_json(body)
    )
    assert view["qr_payload"] == f"/api/v1/licences/{licence_no}/verify"
    uow.config["PORTAL_URL"] = "https://zwfw.example.gov.cn/"
    assert licences.get_licence(uow, APPLICANT, licence_no)["qr_payload"] == (
        f"https://zwfw.example.gov.cn/api/v1/licences/{licence_no}/verify"
    )


def test_without_a_licence_type_in_the_catalogue_the_defaults_apply(uow):
    licence_no = issued(uow)
    parts = parse_number(licence_no)
    assert parts.type_code == "KSXZSP001"  # from the item code ks-xzsp-001
    assert parts.issuer_uscc == default_issuer_uscc(OWN, "320102")
    check = licences.verify_licence(uow, licence_no, on=date(2090, 1, 1))
    assert check["valid"] is True and check["valid_to"] is None  # no end


def test_one_key_per_instance_made_once_and_kept(uow):
    first, second = issued(uow), issued(uow)
    kids = {
        licences.get_licence(uow, APPLICANT, number)["document"]["signature"]["kid"]
        for number in (first, second)
    }
    assert len(kids) == 1
    with uow:
        stored = uow.session.execute(sa.select(orm.licence_keys)).mappings().all()
    assert [row["kid"] for row in stored] == list(kids)
    assert "PRIVATE KEY" not in stored[0]["private_key_cipher"]  # encrypted


@pytest.mark.parametrize("uow", ["sqlite", "postgresql"], indirect=True)
def test_an_approval_signs_with_the_keys_read_with_its_numbers_check(uow):
    """On PostgreSQL the active keys come with the check that the drawn number
    is free: the first approval makes the key, the next signs with it, and
    neither reads the keys on its own."""
    with uow:
        engine = uow.session.get_bind()
    with statements_sent(engine) as statements:
        numbers = [issued(uow), issued(uow)]

    kids = set()
    for number in numbers:
        assert licences.verify_licence(uow, number)["valid"] is True
        kids.add(licences.get_licence(uow, APPLICANT, number)["document"]["signature"]["kid"])
    assert len(kids) == 1
    if engine.dialect.name == "postgresql":
        alone = [s for s in statements if s.lstrip().startswith("SELECT licence_keys.kid")]
        assert alone == []


@pytest.mark.parametrize(
    ("actor", "sees"),
    [
        (APPLICANT, True),
        (OTHER_CITIZEN, False),
        (staff("u-clerk", OWN, "window_clerk"), True),
        (staff("u-other", "320104-SCJ", "dept_admin"), False),
        (OPERATOR, True),
    ],
)
def test_who_reads_a_licence(uow, actor, sees):
    licence_no = issued(uow)
    if sees:
        assert licences.get_licence(uow, actor, licence_no)["licence_no"] == licence_no
    else:
        with pytest.raises(domain.NotFound):
            licences.get_licence(uow, actor, licence_no)


def test_verification_names_each_check(uow):
    licence_no = issued(uow, licence_type=LICENCE_TYPE)
    check = licences.verify_licence(uow, licence_no, on=date(2026, 10, 9))
    assert check["valid"] is True and check["failed"] == []
    assert check["holder_masked"] == "u-ap***cant"
    before = licences.verify_licence(uow, licence_no, on=date(2026, 10, 7))
    assert before["failed"] == ["period"] and before["checks"]["period"] == "not_yet_valid"
    after = licences.verify_licence(uow, licence_no, on=date(2031, 10, 8))
    assert after["failed"] == ["period"] and after["checks"]["period"] == "expired"
    with pytest.raises(domain.NotFound):
        licences.verify_licence(uow, licence_no.replace("SPJY", "SPJZ"))


def test_a_presented_copy_holds_only_untouched(uow):
    licence_no = issued(uow)
    document = licences.get_licence(uow, APPLICANT, licence_no)["document"]
    assert licences.verify_document(uow, document, on=date(2026, 10, 9))["valid"] is True
    tampered = copy.deepcopy(document)
    tampered["licence"]["valid_to"] = "2099-12-31"
    check = licences.verify_document(uow, tampered, on=date(2026, 10, 9))
    assert check["valid"] is False
    assert check["checks"]["signature"] == "invalid" and "signature" in check["failed"]
    assert check["checks"]["register"] == "differs"
    forged = copy.deepcopy(document)
    forged["signature"]["kid"] = "someone-elses-key"
    assert licences.verify_document(uow, forged)["checks"]["signature"] == "unknown_key"
    unknown = copy.deepcopy(document)
    unknown["licence"]["licence_no"] = "1.2.156.3005.2.XX.11320000MB0123456K.AAAAAAAAAAAA.001.0"
    check = licences.verify_document(uow, unknown)
    assert set(check["failed"]) == {"signature", "register", "period", "revocation"}
    assert check["holder_masked"] is None


def test_the_issuing_departments_admin_revokes(uow):
    licence_no = issued(uow)
    with pytest.raises(domain.Forbidden):
        licences.revoke_licence(uow, CLERK, licence_no, "经营场所变更")
    with pytest.raises(domain.NotFound):
        licences.revoke_licence(uow, staff("u-x", "320104-SCJ", "dept_admin"), licence_no, "x")
    with pytest.raises(domain.ValidationFailed) as refused:
        licences.revoke_licence(uow, DEPT_ADMIN, licence_no, "  ")
    assert "reason" in refused.value.fields
    at = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)
    check = licences.revoke_licence(uow, DEPT_ADMIN, licence_no, "经营场所变更", now=at)
    assert check["valid"] is False and check["failed"] == ["revocation"]
    assert check["revocation_reason"] == "经营场所变更"
    revoked = [e for e in outbox(uow) if e["type"] == "licence_revoked"]
    assert [e["payload"]["licence_no"] for e in revoked] == [licence_no]
    assert revoked[0]["payload"]["reason"] == "经营场所变更"
    with pytest.raises(domain.InvalidTransition):
        licences.revoke_licence(uow, DEPT_ADMIN, licence_no, "again")
    assert licences.get_licence(uow, APPLICANT, licence_no)["valid"] is False
    listed = use_cases.list_licences(uow, APPLICANT)["items"]
    assert [entry["valid"] for entry in listed if entry["licence_no"] == licence_no] == [False]


def test_held_licence_for_evidence_and_reuse(uow):
    licence_no = issued(uow, licence_type=LICENCE_TYPE)
    with uow:
        held = licences.held_licence(uow, licence_no, ["u-applicant"], on=date(2027, 1, 1))
        assert held == {
            "licence_no": licence_no,
            "licence_type_code": "SPJY",
            "name": "食品经营许可证",
            "holder_id": "u-applicant",
            "valid_to": date(2031, 10, 7),
        }
        assert licences.held_licence(uow, licence_no, ["u-applicant"], licence_type="SPJY")
        assert licences.held_licence(uow, licence_no, ["u-applicant"], licence_type="XK") is None
        assert licences.held_licence(uow, licence_no, ["u-other"]) is None
        assert licences.held_licence(uow, licence_no, ["u-applicant"], on=date(2032, 1, 1)) is None
        assert licences.held_licence(uow, "JS32010220261012000001", ["u-applicant"]) is None


def test_a_licence_is_reused_as_material_by_its_holder_only(uow):
    licence_no = issued(uow, licence_type=LICENCE_TYPE)
    materials = [{"name": "营业执照"}, {"licence_no": licence_no}]
    application = use_cases.submit_application(
        uow, item(joint_departments=[]), APPLICANT, FORM, materials, ONLINE, now=LATER
    )
    reused = application.materials[1]
    assert reused["name"] == "食品经营许可证"
    assert reused["licence"]["licence_no"] == licence_no
    assert reused["licence"]["valid_to"] == "2031-10-07"
    with pytest.raises(domain.ValidationFailed) as refused:
        use_cases.submit_application(
            uow, item(joint_departments=[]), OTHER_CITIZEN, FORM, materials, ONLINE, now=LATER
        )
    assert list(refused.value.fields) == ["materials.1.licence_no"]
    assert refused.value.fields["materials.1.licence_no"].startswith("the licence is not held")
    licences.revoke_licence(uow, DEPT_ADMIN, licence_no, "吊销")
    with pytest.raises(domain.ValidationFailed) as refused:
        use_cases.submit_application(
            uow, item(joint_departments=[]), APPLICANT, FORM, materials, ONLINE, now=LATER
        )
    assert refused.value.fields == {"materials.1.licence_no": "the licence is revoked"}


def test_a_licence_of_another_instance_is_asked_of_it(uow):
    asked = []
    remote = "1.2.156.3005.2.JSGA01.11320000MB0123456K.AAAAAAAAAAAA.001.0"
    remote = remote[:-1] + parse_check(remote)

    def elsewhere(licence_no, holder_ids, licence_type, on):
        asked.append((licence_no, holder_ids))
        if holder_ids == ["u-applicant"]:
            held = {
                "licence_no": licence_no,
                "licence_type_code": "JSGA01",
                "name": "户口",
                "holder_id": "u-applicant",
                "valid_to": None,
            }
            return {"licence": held, "problem": None}
        return {"licence": None, "problem": "the licence is not held by the applicant"}

    application = use_cases.submit_application(
        uow,
        item(joint_departments=[]),
        APPLICANT,
        FORM,
        [{"licence_no": remote}],
        ONLINE,
        now=LATER,
        licences_elsewhere=elsewhere,
    )
    assert application.materials[0]["name"] == "户口"
    with pytest.raises(domain.ValidationFailed) as refused:
        use_cases.submit_application(
            uow,
            item(joint_departments=[]),
            OTHER_CITIZEN,
            FORM,
            [{"licence_no": remote}],
            ONLINE,
            now=LATER,
            licences_elsewhere=elsewhere,
        )
    assert list(refused.value.fields) == ["materials.0.licence_no"]
    assert [holders for _, holders in asked] == [["u-applicant"], ["u-other"]]


def parse_check(number: str) -> str:
    from services.workflow.domain.licences import check_character

    return check_character(number[:-2])


def test_find_elsewhere_asks_the_issuing_instance():
    calls = []

    def call(instance, method, **arguments):
        calls.append(instance)
        return {"licence": None, "problem": "no such licence"}

    departments = [{"code": "js-ga", "region_code": "320000", "uscc": "11320000MB0123456K"}]
    ask = licences.find_elsewhere(call, "workflow", ["js-ga"], lambda: departments)
    number = "1.2.156.3005.2.JSGA01.11320000MB0123456K.AAAAAAAAAAAA.001.0"
    number = number[:-1] + parse_check(number)
    assert ask(number, ["u-1"], None, date(2026, 10, 8)) is None
    assert calls == ["workflow-js-ga"]
    # Only this instance could hold it: nobody else is asked.
    mine = licences.find_elsewhere(call, "workflow-js-ga", ["js-ga"], lambda: departments)
    assert mine(number, ["u-1"], None, date(2026, 10, 8)) is None
    assert calls == ["workflow-js-ga"]


def test_a_licence_issued_before_keeps_verifying_and_is_signed_when_first_read(uow):
    application = use_cases.submit_application(
        uow, item(joint_departments=[]), APPLICANT, FORM, MATERIALS, ONLINE, now=NOW
    )
    old_no = "JS32010220260929000001"
    with uow:
        uow.session.execute(
            orm.licences.insert().values(
                licence_no=old_no,
                application_id=application.application_id,
                applicant_id="u-applicant",
                holder_masked="u-ap***cant",
                holder_id="u-applicant",
                item_id="item-food-licence",
                item_name="食品经营许可",
                issued_at=NOW,
                valid=True,
                department_code=OWN,
                valid_from=date(2026, 9, 29),
            )
        )
        uow.commit()
    check = licences.verify_licence(uow, old_no)
    assert check["valid"] is True and check["checks"]["signature"] == "valid"
    # Its serial counted up: the number alone opens none of the particulars,
    # the signed document does.
    assert check["holder_masked"] is None and check["item_name"] is None
    assert check["issued_at"] is None and check["revocation_reason"] is None
    document = licences.get_licence(uow, APPLICANT, old_no)["document"]
    presented = licences.verify_document(uow, document)
    assert presented["valid"] is True and presented["holder_masked"] == "u-ap***cant"
    assert document["licence"]["licence_no"] == old_no
    assert licences.get_licence(uow, APPLICANT, old_no)["document"] == document  # signed once
    with uow:
        assert licences.held_licence(uow, old_no, ["u-applicant"]) is not None


def test_an_enterprises_licence_is_held_by_it_and_read_by_its_members(uow, identity):
    enterprise = {"kind": "enterprise", "uscc": "91320102MA1XYR1234"}
    identity.allow(APPLICANT["user_id"], enterprise, mandate_id=None)
    application = use_cases.submit_application(
        uow,
        item(joint_departments=[]),
        APPLICANT,
        FORM,
        MATERIALS,
        ONLINE,
        on_behalf_of=enterprise,
        now=NOW,
    )
    use_cases.act(uow, CLERK, application.application_id, "accept", now=NOW)
    licence_no = use_cases.act(
        uow, APPROVER, application.application_id, "approve", now=LATER
    ).licence_no
    body = licences.get_licence(uow, APPLICANT, licence_no)["document"]["licence"]
    assert body["holder"]["kind"] == "enterprise"
    assert body["holder"]["id"] == "91320102MA1XYR1234"
    with pytest.raises(domain.NotFound):
        licences.get_licence(uow, OTHER_CITIZEN, licence_no)
    with uow:
        uow.memberships.apply("91320102MA1XYR1234", "u-other", "member", True, NOW)
        uow.commit()
    assert licences.get_licence(uow, OTHER_CITIZEN, licence_no)["licence_no"] == licence_no
    with uow:
        assert licences.held_licence(uow, licence_no, ["91320102MA1XYR1234"]) is not None
        assert licences.held_licence(uow, licence_no, ["u-applicant"]) is None
