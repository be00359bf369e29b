"""A person signs in to the demo department system (苏州市住房公积金管理中心
网上服务大厅) with their tongban account, in headless Chromium: the system's
sign-in link, tongban's sign-in form (found by its labels), consent, and back
at the system signed in under their name. Each page is saved as a phone-sized
and a desktop screenshot in var/screenshots/oidc/.

Playwright's sync API cannot stop its driver under eventlet's monkey patching,
which the root conftest applies to every test, so the browser is driven from a
process of its own: this module, run as ``python -m
tests.e2e.test_oidc_browser <portal URL> <phone> <name> <folder>`` with the
password in TONGBAN_TEST_PASSWORD.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.test_oidc import PASSWORD, signed_in_citizen

pytestmark = pytest.mark.e2e

# Not services.common.config's, which would bring nameko into the browser's process.
PROJECT_ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
NO_CHROMIUM = f"no Chromium at {CHROMIUM} (make test installs it)"
SCREENSHOTS = PROJECT_ROOT / "var" / "screenshots" / "oidc"
PHONE_VIEWPORT = {"width": 390, "height": 844}
DESKTOP_VIEWPORT = {"width": 1280, "height": 800}
PAGES = ("1-department-home", "2-tongban-sign-in", "3-tongban-consent", "4-department-signed-in")
CLIENT_NAME = "苏州市住房公积金管理中心"
BROWSER_SECONDS = 180


@pytest.mark.skipif(not CHROMIUM.exists(), reason=NO_CHROMIUM)
def test_a_person_signs_in_to_the_department_system_in_a_browser(cluster, department_portal):
    _, phone, user_id, _ = signed_in_citizen(cluster, "陈浏览")
    for old in SCREENSHOTS.glob("*.png"):
        old.unlink()
    run = subprocess.run(  # noqa: S603  (our own interpreter and module)
        [
            sys.executable,
            "-m",
            "tests.e2e.test_oidc_browser",
            cluster.department_portal_url,
            phone,
            "陈浏览",
            str(SCREENSHOTS),
        ],
        env={**os.environ, "TONGBAN_TEST_PASSWORD": PASSWORD},
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=BROWSER_SECONDS,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    (signed_in,) = department_portal.signed_in(user_id)
    assert signed_in["name"] == "陈浏览"
    for name in PAGES:
        for size in ("phone", "desktop"):
            shot = SCREENSHOTS / f"{name}-{size}.png"
            assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", shot


def shoot(page, folder: Path, name: str) -> None:
    """The page as a phone and as a desktop shows it, whole."""
    for size, viewport in (("phone", PHONE_VIEWPORT), ("desktop", DESKTOP_VIEWPORT)):
        page.set_viewport_size(viewport)
        page.screenshot(path=folder / f"{name}-{size}.png", full_page=True)


def sign_in(portal_url: str, phone: str, password: str, name: str, folder: Path) -> None:
    """Walk through the sign-in as a person would; AssertionError (or a
    Playwright timeout) where a step does not show what it should."""
    from playwright.sync_api import expect, sync_playwright

    folder.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            page = browser.new_context(locale="zh-CN", viewport=DESKTOP_VIEWPORT).new_page()
            page.goto(portal_url + "/")
            expect(page.get_by_role("heading", level=1)).to_have_text("欢迎使用网上服务大厅")
            shoot(page, folder, PAGES[0])

            page.get_by_role("link", name="用江苏政务服务网账号登录").click()
            page.wait_for_url(re.compile(r"/oidc/sign-in\?"))
            expect(page.locator("main")).to_contain_text(CLIENT_NAME)
            shoot(page, folder, PAGES[1])
            page.get_by_label("手机号码").fill(phone)
            page.get_by_label("密码").fill(password)
            page.get_by_role("button", name="登录").click()

            page.wait_for_url(re.compile(r"/oidc/consent\?"))
            expect(page.locator("main")).to_contain_text(CLIENT_NAME)
            expect(page.locator("main")).to_contain_text("基本信息（姓名）")
            shoot(page, folder, PAGES[2])
            page.get_by_role("button", name="同意").click()

            page.wait_for_url(portal_url + "/")
            expect(page.get_by_role("heading", level=1)).to_have_text(f"您好，{name}")
            expect(page.get_by_role("button", name="退出登录")).to_be_visible()
            shoot(page, folder, PAGES[3])
        finally:
            browser.close()


if __name__ == "__main__":
    portal_url, phone, name, folder = sys.argv[1:]
    sign_in(portal_url, phone, os.environ["TONGBAN_TEST_PASSWORD"], name, Path(folder))
