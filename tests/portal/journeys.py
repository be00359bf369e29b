"""The portal's journeys in headless Chromium, against a running cluster whose
gateway serves the portal at "/".

Playwright's sync API cannot stop its driver under eventlet's monkey patching
(the root conftest applies it to every test), so the browser runs in a process
of its own:

    python -m tests.portal.journeys <gateway URL> <journey> <result JSON> <screenshot folder>

with <journey> one of ``citizen``, ``agent``, ``bad-input``, ``window``. Each page the
journey passes through is saved at phone size (390×844) and desktop size
(1280×800) and checked with axe-core (portal/node_modules/axe-core). The result
file says whether the journey got through (``ok``, ``error``), the pages in
order, axe's violations per page, and what the journey read on the way
(``facts``). The exit status is 0 when the journey got through, whatever axe
found: tests/e2e/test_portal_journeys.py judges both.
"""

from __future__ import annotations

import json
import re
import sys
import time
import traceback
import urllib.parse
import urllib.request
from pathlib import Path

# Not services.common.config's, which would bring nameko into the browser's process.
PROJECT_ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
AXE = PROJECT_ROOT / "portal" / "node_modules" / "axe-core" / "axe.min.js"
PHONE_VIEWPORT = {"width": 390, "height": 844}
DESKTOP_VIEWPORT = {"width": 1280, "height": 800}
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]

# The demo accounts (README.md, "The two commands").
CITIZEN = ("13900000001", "Citizen2026")
APPROVER = ("13700000001", "Staff2026")
WINDOW_CLERK = ("13700000002", "Staff2026")
AGENT = ("13700000004", "Staff2026")
OPERATOR = ("13800000000", "Operator2026")
ENTERPRISE = ("南京代办示范科技有限公司", "91320102MA1DB00015")

FOOD_ITEM = "320000-JSSCJG-001"  # 食品生产许可证核发（保健食品）, js-amr: accept, then decide
FOOD_ITEM_NAME = "食品生产许可证核发（保健食品）"
FOREIGN_FIRM = "320000-JSSCJG-004"  # 外商投资企业设立登记（营业执照核发）, js-amr
FOREIGN_FIRM_NAME = "外商投资企业设立登记（营业执照核发）"
ADDRESS = {
    "name": "张三",
    "phone": "13912345678",
    "province": "江苏省",
    "city": "南京市",
    "district": "玄武区",
    "street": "中山路 100 号",
    "postcode": "210008",
}
REVIEW_FIELDSETS = (
    "review-grade",
    "review-overall",
    "review-efficiency",
    "review-guide_accuracy",
    "review-convenience",
    "review-usability",
)
ONSITE_INDICATORS = ("efficiency", "competence", "attitude")
# Each wait for the cluster to move a case on (EMS parcels, licences, ratings).
CLUSTER_SECONDS = 90
STEP_MS = 20_000

AXE_RUN = """async (tags) => {
  const result = await axe.run(document, {
    runOnly: { type: "tag", values: tags },
    resultTypes: ["violations"],
  });
  return result.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    targets: v.nodes.map((n) => n.target.join(" ")),
  }));
}"""


class Recorder:
    """Screenshots and axe's findings for each page a journey passes through."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.pages: list[str] = []
        self.axe: dict[str, list[dict]] = {}
        self.facts: dict[str, object] = {}
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("*.png"):
            old.unlink()

    def page(self, page, name: str) -> None:
        """Save ``page`` whole at both sizes and run axe on it at both."""
        page.wait_for_load_state("networkidle")
        found: dict[tuple[str, str], dict] = {}
        for size, viewport in (("phone", PHONE_VIEWPORT), ("desktop", DESKTOP_VIEWPORT)):
            page.set_viewport_size(viewport)
            page.wait_for_timeout(150)
            page.screenshot(path=self.folder / f"{name}-{size}.png", full_page=True)
            for violation in self.run_axe(page):
                key = (violation["id"], size)
                found[key] = {**violation, "viewport": size}
        self.pages.append(name)
        self.axe[name] = list(found.values())

    @staticmethod
    def run_axe(page) -> list[dict]:
        if not page.evaluate("() => typeof window.axe === 'object'"):
            page.add_script_tag(path=str(AXE))
        return page.evaluate(AXE_RUN, WCAG_TAGS)


# ------------------------------------------------------------------ the API


def api(base: str, path: str, **params) -> dict:
    """A public GET of the gateway's API (no token)."""
    query = ("?" + urllib.parse.urlencode(params)) if params else ""
    with urllib.request.urlopen(f"{base}/api/v1{path}{query}", timeout=15) as answer:  # noqa: S310
        return json.load(answer)


def guide_of(base: str, code: str) -> dict:
    found = [i for i in api(base, "/items", q=code, page_size=100)["items"] if i["code"] == code]
    assert found, f"the demo catalogue has no item {code}"
    return api(base, f"/items/{found[0]['item_id']}")


# ------------------------------------------------------------------ browsing


def until(check, what: str, seconds: float = CLUSTER_SECONDS, every: float = 1.5):
    """``check()``'s first truthy answer, tried every ``every`` seconds."""
    deadline = time.monotonic() + seconds
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(every)
    raise AssertionError(f"timed out waiting for {what}; last: {last!r}")


def new_page(browser, base: str):
    # The gateway's Content-Security-Policy would refuse axe's injected script.
    context = browser.new_context(
        locale="zh-CN", viewport=DESKTOP_VIEWPORT, bypass_csp=True, base_url=base
    )
    context.set_default_timeout(STEP_MS)
    return context.new_page()


def sign_in(page, account: tuple[str, str], record: Recorder | None, prefix: str) -> None:
    """From the portal's header through tongban's sign-in page and back."""
    from playwright.sync_api import expect

    page.locator("[data-action='sign-in']").click()
    page.wait_for_url(re.compile(r"/oidc/sign-in\?"))
    if record:
        record.page(page, f"{prefix}-tongban-sign-in")
    page.get_by_label("手机号码").fill(account[0])
    page.get_by_label("密码").fill(account[1])
    page.get_by_role("button", name="登录", exact=True).click()
    page.wait_for_url(lambda url: "/oidc/sign-in" not in url)
    if "/oidc/consent" in page.url:
        if record:
            record.page(page, f"{prefix}-tongban-consent")
        page.get_by_role("button", name="同意").click()
    page.wait_for_url(lambda url: "/oidc/" not in url and "/auth/callback" not in url)
    expect(page.locator("[data-action='sign-out']")).to_be_visible()


def search_and_open(page, record: Recorder, keyword: str, name: str, prefix: str) -> None:
    """Search the catalogue from the home page and open the item's guide."""
    from playwright.sync_api import expect

    page.get_by_label("关键词", exact=True).fill(keyword)
    page.get_by_role("button", name="搜索", exact=True).first.click()
    page.wait_for_url(re.compile(r"[?&]q="))
    link = page.get_by_role("link", name=name, exact=True).first
    expect(link).to_be_visible()
    record.page(page, f"{prefix}-search-results")
    link.click()
    page.wait_for_url(re.compile(r"/items/[^/]+$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(name)
    record.page(page, f"{prefix}-item-guide")


def fill_address(page, address: dict) -> None:
    for key, value in address.items():
        page.locator(f"#apply-address-{key}").fill(value)


def application_id_of(page) -> str:
    page.wait_for_url(re.compile(r"/my/cases/[0-9a-f]+$"))
    return page.url.rsplit("/", 1)[1]


def main_text(page) -> str:
    return page.locator("main").inner_text()


def reload_until(page, check, what: str):
    """Read the page again (the portal does not poll) until ``check(page)``."""

    def again():
        page.reload()
        page.wait_for_load_state("networkidle")
        return check(page)

    return until(again, what)


def decide(page, application_id: str, decision: str) -> None:
    """On a staff case page: choose ``decision`` (its words) and submit it."""
    from playwright.sync_api import expect

    page.goto(f"/staff/cases/{application_id}")
    reload_until(
        page,
        lambda p: p.get_by_label(decision, exact=True).count() > 0,
        f"{decision} to be offered on {application_id}",
    )
    page.get_by_label(decision, exact=True).check()
    page.locator("#decision-comment").fill(f"{decision}：材料齐全")
    page.locator("[data-action='decide']").click()
    expect(page.get_by_text("办理决定已提交，办件已更新。")).to_be_visible()


def board_row(page, store_id: str) -> dict:
    """A store's row on the operator's board: reviews and praise rate as shown."""
    row = page.locator(f"tr[data-store='{store_id}']").first
    cells = row.locator("td").all_inner_texts()
    return {"reviews": cells[1].strip(), "praise_rate": cells[2].strip()}


# ------------------------------------------------------------------ journeys


def citizen_journey(base: str, browser, record: Recorder) -> None:
    """Search, guide, apply by EMS; the parcel moves; the window clerk accepts and
    the approver approves; the licence's QR; a review; the store board."""
    from playwright.sync_api import expect

    guide = guide_of(base, FOOD_ITEM)
    store_id = guide["store_id"]
    record.facts["store_id"] = store_id

    operator = new_page(browser, base)
    operator.goto("/")
    sign_in(operator, OPERATOR, None, "operator")
    operator.goto("/operator/stores")
    expect(operator.locator(f"tr[data-store='{store_id}']").first).to_be_visible()
    before = board_row(operator, store_id)
    record.facts["board_before"] = before
    record.page(operator, "20-operator-board-before")

    page = new_page(browser, base)
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    record.page(page, "01-home")
    sign_in(page, CITIZEN, record, "02")
    record.page(page, "03-home-signed-in")
    search_and_open(page, record, "保健食品", FOOD_ITEM_NAME, "04")

    page.get_by_role("link", name="在线申请").click()
    page.wait_for_url(re.compile(r"/apply$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(FOOD_ITEM_NAME)
    page.get_by_label("快递办", exact=True).check()
    fill_address(page, ADDRESS)
    page.locator("#apply-remarks").fill("开办保健食品生产企业")
    record.page(page, "06-apply-express")
    page.get_by_role("button", name="提交申请").click()
    application_id = application_id_of(page)
    record.facts["application_id"] = application_id
    expect(page.get_by_role("heading", level=1)).to_contain_text(FOOD_ITEM_NAME)
    record.page(page, "07-case-submitted")

    # courier orders the pickup; the EMS simulator carries the parcel to the window.
    reload_until(page, lambda p: "已签收" in main_text(p), "the materials parcel to be delivered")
    show = page.get_by_role("button", name="查看物流详情").first
    if show.count():
        show.click()
    record.page(page, "08-case-parcel-delivered")

    clerk = new_page(browser, base)
    clerk.goto("/")
    sign_in(clerk, WINDOW_CLERK, record, "30-clerk")
    clerk.goto("/staff/worklist")
    expect(clerk.locator(f"a[href$='/staff/cases/{application_id}']").first).to_be_visible()
    record.page(clerk, "31-clerk-worklist")
    clerk.locator(f"a[href$='/staff/cases/{application_id}']").first.click()
    expect(clerk.get_by_role("heading", level=1)).to_contain_text(FOOD_ITEM_NAME)
    record.page(clerk, "32-clerk-case")
    # An EMS case is accepted when the window receives the parcel (窗口收到材料,
    # by the system); the clerk accepts only what is still waiting for it.
    if clerk.get_by_label("受理", exact=True).count():
        decide(clerk, application_id, "受理")
        record.facts["accepted_by"] = "window clerk"
    else:
        expect(clerk.locator("main")).to_contain_text("窗口收到材料")
        record.facts["accepted_by"] = "system, on the parcel's arrival"
    record.page(clerk, "33-clerk-accepted")

    approver = new_page(browser, base)
    approver.goto("/")
    sign_in(approver, APPROVER, None, "40-approver")
    approver.goto("/staff/worklist")
    expect(approver.locator(f"a[href$='/staff/cases/{application_id}']").first).to_be_visible()
    record.page(approver, "41-approver-worklist")
    decide(approver, application_id, "批准")
    record.page(approver, "42-approver-approved")

    # The licence is signed; EMS carries the result home; the case completes.
    reload_until(page, lambda p: "已办结" in main_text(p), "the case to complete")
    record.page(page, "09-case-completed")
    page.get_by_role("link", name="查看证照").click()
    page.wait_for_url(re.compile(r"/my/licences/[^/]+$"))
    qr = page.get_by_role("img", name=re.compile("证照二维码"))
    expect(qr).to_be_visible()
    record.facts["licence_no"] = page.url.rsplit("/", 1)[1]
    record.facts["qr_modules"] = qr.locator("rect, path").count()
    record.page(page, "10-licence-qr")

    page.goto(f"/my/cases/{application_id}")
    expect(page.get_by_role("heading", name="评价本次办事")).to_be_visible()
    # The overall grade and the five indicators, each "非常满意" (5).
    for fieldset in REVIEW_FIELDSETS:
        page.locator(f"#{fieldset}-5").check()
    page.locator("#review-comment").fill("不用跑腿，EMS 上门取件，办得快")
    record.page(page, "11-case-review")
    page.get_by_role("button", name="提交评价").click()
    expect(page.get_by_text("感谢您的评价。")).to_be_visible()
    record.page(page, "12-case-reviewed")

    def counted(p):
        row = board_row(p, store_id)
        return row if row["reviews"] != before["reviews"] else None

    after = reload_until(operator, counted, "the store board to count the review")
    record.facts["board_after"] = after
    record.page(operator, "21-operator-board-after")


def agent_journey(base: str, browser, record: Recorder) -> None:
    """The demo agent applies for 南京代办示范科技有限公司 under its mandate."""
    from playwright.sync_api import expect

    page = new_page(browser, base)
    page.goto("/")
    record.page(page, "01-home")
    sign_in(page, AGENT, record, "02")
    search_and_open(page, record, "外商投资企业设立登记", FOREIGN_FIRM_NAME, "03")
    page.get_by_role("link", name="在线申请").click()
    page.wait_for_url(re.compile(r"/apply$"))
    enterprise = page.get_by_label(re.compile(f"为企业办理：{ENTERPRISE[0]}"))
    expect(enterprise).to_be_visible()
    enterprise.check()
    page.get_by_label("全程网办", exact=True).check()
    record.page(page, "05-apply-for-enterprise")
    page.get_by_role("button", name="提交申请").click()
    application_id = application_id_of(page)
    record.facts["application_id"] = application_id
    expect(page.locator("main")).to_contain_text(ENTERPRISE[0])
    record.facts["case_text"] = main_text(page)[:2000]
    record.page(page, "06-case-for-enterprise")
    page.goto("/my/cases")
    expect(page.locator(f"a[href$='/my/cases/{application_id}']").first).to_be_visible()
    record.page(page, "07-my-cases")


def bad_input_journey(base: str, browser, record: Recorder) -> None:
    """A five-digit postcode: the gateway answers 422 and the form shows its
    reason next to the postcode field."""
    from playwright.sync_api import expect

    guide = guide_of(base, FOOD_ITEM)
    page = new_page(browser, base)
    page.goto(f"/items/{guide['item_id']}")
    expect(page.get_by_role("heading", level=1)).to_contain_text(FOOD_ITEM_NAME)
    sign_in(page, CITIZEN, None, "01")
    page.get_by_role("link", name="在线申请").click()
    page.wait_for_url(re.compile(r"/apply$"))
    page.get_by_label("快递办", exact=True).check()
    fill_address(page, {**ADDRESS, "postcode": "21000"})
    record.page(page, "01-apply-bad-postcode")
    statuses: list[int] = []
    page.on(
        "response",
        lambda r: statuses.append(r.status) if r.url.endswith("/api/v1/applications") else None,
    )
    page.get_by_role("button", name="提交申请").click()
    reason = page.locator("#apply-address-postcode-error")
    expect(reason).to_be_visible()
    field = page.locator("#apply-address-postcode")
    expect(field).to_have_attribute("aria-invalid", "true")
    record.facts["statuses"] = statuses
    record.facts["reason"] = reason.inner_text()
    record.facts["described_by"] = field.get_attribute("aria-describedby")
    record.facts["summary"] = page.locator(".form__errors").inner_text()
    record.facts["still_on"] = page.url
    record.page(page, "02-apply-422-next-to-field")


def fill_visit_rating(page, comment: str) -> None:
    page.locator("#rate-grade-5").check()
    for indicator in ONSITE_INDICATORS:
        page.locator(f"#rate-{indicator}-5").check()
    page.locator("#rate-comment").fill(comment)
    page.locator("[data-action='rate']").click()


def window_journey(base: str, browser, record: Recorder) -> None:
    """一次一评: the window clerk records a visit; the visitor opens the rating
    link (the window's QR code) without signing in and rates it; the same
    token a second time is refused; the clerk finds the review."""
    from playwright.sync_api import expect

    comment = f"窗口服务热情周到 {time.strftime('%H%M%S')}"
    clerk = new_page(browser, base)
    clerk.goto("/")
    sign_in(clerk, WINDOW_CLERK, None, "01")
    clerk.goto("/staff/visits")
    expect(clerk.locator("#visit-item option", has_text=FOOD_ITEM_NAME)).to_have_count(1)
    record.page(clerk, "01-clerk-visits")
    clerk.locator("#visit-item").select_option(label=FOOD_ITEM_NAME)
    clerk.locator("#visit-phone").fill(ADDRESS["phone"])
    clerk.locator("[data-action='record']").click()
    expect(clerk.locator("[data-visit]")).to_be_visible()
    link = clerk.locator("[data-link]").get_attribute("href") or ""
    record.facts["token"] = clerk.locator("[data-token]").inner_text().strip()
    record.facts["link"] = link
    record.facts["sms"] = clerk.locator("[data-sms]").inner_text().strip()
    drawn = clerk.locator("[data-visit] svg path").first.get_attribute("d") or ""
    record.facts["qr_modules"] = drawn.count("h1v1")
    record.page(clerk, "02-clerk-visit-recorded")

    visitor = new_page(browser, base)
    visitor.goto(link)
    expect(visitor.locator("#rate-grade-5")).to_be_visible()
    record.page(visitor, "03-visitor-rates")
    fill_visit_rating(visitor, comment)
    expect(visitor.locator("[data-outcome='done']")).to_be_visible()
    record.page(visitor, "04-visitor-rated")
    visitor.goto(link)
    fill_visit_rating(visitor, comment)
    used = visitor.locator("[data-outcome='used']")
    expect(used).to_be_visible()
    record.facts["second_time"] = used.inner_text()
    record.page(visitor, "05-token-used")

    clerk.goto("/staff/reviews")
    record.facts["reviews_text"] = reload_until(
        clerk,
        lambda p: comment in main_text(p) and main_text(p),
        "the visit's review among the department's reviews",
    )[:3000]
    record.facts["comment"] = comment
    record.page(clerk, "06-clerk-reviews")


JOURNEYS = {
    "citizen": citizen_journey,
    "agent": agent_journey,
    "bad-input": bad_input_journey,
    "window": window_journey,
}


def run(base: str, journey: str, result_path: Path, folder: Path) -> int:
    from playwright.sync_api import sync_playwright

    record = Recorder(folder)
    outcome: dict[str, object] = {"journey": journey, "ok": False, "error": None}
    started = time.monotonic()
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM), args=["--no-sandbox"]
            )
            try:
                JOURNEYS[journey](base, browser, record)
                outcome["ok"] = True
            except Exception:  # reported in the result file, judged by the test
                outcome["error"] = traceback.format_exc()
                for index, context in enumerate(browser.contexts):
                    for number, page in enumerate(context.pages):
                        page.screenshot(path=folder / f"failed-{index}-{number}.png")
            finally:
                browser.close()
    finally:
        outcome.update(
            seconds=round(time.monotonic() - started, 1),
            pages=record.pages,
            axe=record.axe,
            facts=record.facts,
        )
        result_path.write_text(json.dumps(outcome, ensure_ascii=False, indent=2), encoding="utf-8")
    return 0 if outcome["ok"] else 1


if __name__ == "__main__":
    base_url, name, result_file, screenshots = sys.argv[1:]
    sys.exit(run(base_url.rstrip("/"), name, Path(result_file), Path(screenshots)))
