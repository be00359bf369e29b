"""The portal (portal/, served by the gateway at "/") in headless Chromium,
against the whole cluster:

- a citizen signs in through tongban's sign-in page, finds an item by search,
  reads its guide, applies by EMS; the parcel reaches the window; js-amr's
  window clerk accepts and its approver approves on the staff pages (browser
  contexts of their own); the citizen sees the licence's QR code and reviews
  the case; the operator's store board counts the review;
- the demo agent applies for 南京代办示范科技有限公司 under its mandate;
- a five-digit postcode is refused (422) and the reason stands next to the field;
- axe-core finds nothing serious or critical on any page these pass through.

Each journey runs in a process of its own (tests/portal/journeys.py; see
test_oidc_browser.py for why) and leaves its pages, at phone and desktop size,
in var/screenshots/portal/<journey>/.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests

pytestmark = pytest.mark.e2e

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
AXE = PROJECT_ROOT / "portal" / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = PROJECT_ROOT / "var" / "screenshots" / "portal"
RESULTS = PROJECT_ROOT / "var" / "portal-journeys"
JOURNEY_SECONDS = 420
PNG = b"\x89PNG\r\n\x1a\n"
BLOCKING = ("serious", "critical")


def portal_served(base_url: str) -> bool:
    response = requests.get(base_url + "/", headers={"Accept": "text/html"}, timeout=10)
    return response.status_code == 200 and '<div id="app"' in response.text


@pytest.fixture(scope="module")
def journeys(cluster):
    """Runs a journey once (the first test asking for it) and keeps its result."""
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (make test installs it)")
    if not AXE.exists():
        pytest.skip(f"no axe-core at {AXE}: run `npm ci` in portal/")
    if not portal_served(cluster.gateway_url):
        pytest.skip(
            "the gateway does not serve the portal at / (build it: cd portal && npm run build)"
        )
    done: dict[str, dict] = {}

    def run(name: str) -> dict:
        if name not in done:
            RESULTS.mkdir(parents=True, exist_ok=True)
            result_path = RESULTS / f"{name}.json"
            result_path.unlink(missing_ok=True)
            process = subprocess.run(  # noqa: S603  (our own interpreter and module)
                [
                    sys.executable,
                    "-m",
                    "tests.portal.journeys",
                    cluster.gateway_url,
                    name,
                    str(result_path),
                    str(SCREENSHOTS / name),
                ],
                env=dict(os.environ),
                cwd=PROJECT_ROOT,
                capture_output=True,
                text=True,
                timeout=JOURNEY_SECONDS,
                check=False,
            )
            assert result_path.exists(), process.stdout + process.stderr
            done[name] = json.loads(result_path.read_text(encoding="utf-8"))
            done[name]["output"] = (process.stdout + process.stderr)[-4000:]
        return done[name]

    return run


def got_through(result: dict) -> dict:
    """The journey's facts, once it is known to have got through with every
    page saved at both sizes."""
    assert result["ok"], f"{result['journey']} stopped:\n{result['error']}\n{result['output']}"
    folder = SCREENSHOTS / result["journey"]
    for name in result["pages"]:
        for size in ("phone", "desktop"):
            shot = folder / f"{name}-{size}.png"
            assert shot.read_bytes()[:8] == PNG, shot
    return result["facts"]


def test_a_citizen_applies_by_ems_staff_decide_and_the_review_reaches_the_board(journeys):
    result = journeys("citizen")
    facts = got_through(result)
    assert facts["application_id"]
    assert facts["licence_no"]
    assert facts["qr_modules"] > 0
    before, after = facts["board_before"], facts["board_after"]
    assert int(after["reviews"]) == int(before["reviews"]) + 1, (before, after)
    # Five of five is praise: the rate shown is 100 % when this is the store's
    # only review, and otherwise moves, unless every review before was praise.
    assert after["praise_rate"] != before["praise_rate"] or before["praise_rate"].startswith(
        "100"
    ), (before, after)
    for page in ("08-case-parcel-delivered", "33-clerk-accepted", "42-approver-approved"):
        assert page in result["pages"]


def test_the_demo_agent_applies_for_the_enterprise_it_holds_a_mandate_for(journeys):
    facts = got_through(journeys("agent"))
    assert facts["application_id"]
    assert "南京代办示范科技有限公司" in facts["case_text"]


def test_a_refused_postcode_is_explained_next_to_the_field(journeys):
    facts = got_through(journeys("bad-input"))
    assert 422 in facts["statuses"], facts
    assert "6 digits" in facts["reason"], facts
    assert "apply-address-postcode-error" in facts["described_by"].split(), facts
    assert facts["still_on"].endswith("/apply"), facts


def test_a_window_visit_is_rated_once_with_its_token_and_the_clerk_sees_it(journeys):
    facts = got_through(journeys("window"))
    token = facts["token"]
    assert token and token in facts["link"], facts
    assert "/rate?" in facts["link"] and "channel=window" in facts["link"], facts
    assert "139****5678" in facts["sms"], facts
    assert facts["qr_modules"] > 0, facts
    assert "已经评价" in facts["second_time"], facts
    assert facts["comment"] in facts["reviews_text"], facts


@pytest.mark.parametrize("journey", ["citizen", "agent", "bad-input", "window"])
def test_no_page_has_a_serious_or_critical_accessibility_violation(journeys, journey):
    result = journeys(journey)
    assert result["pages"], f"{journey} saved no page:\n{result['error']}"
    blocking = [
        f"{page} [{violation['viewport']}]: {violation['id']} ({violation['impact']}) "
        f"at {', '.join(violation['targets'][:5])}"
        for page, violations in result["axe"].items()
        for violation in violations
        if violation["impact"] in BLOCKING
    ]
    assert not blocking, "axe-core:\n" + "\n".join(blocking)
