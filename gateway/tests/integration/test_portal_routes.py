"""The gateway serves the portal's build at "/": its pages, its files, their
caching and security headers; paths out of the build refused; the API, the
provider and the operations routes answering as before; no build at all."""

import http.client
import time
from urllib.parse import urlsplit

import pytest

INDEX = (
    b'<!doctype html><html lang="zh-CN"><head><title>tongban</title>'
    b'<script type="module" crossorigin src="/assets/index-abc123.js"></script></head>'
    b'<body><div id="app"></div></body></html>'
)
SCRIPT = b"document.title = 'tongban';"
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; style-src-attr 'unsafe-inline';"
    " img-src 'self'; font-src 'self'; connect-src 'self'; object-src 'none';"
    " base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


@pytest.fixture
def dist(tmp_path):
    directory = tmp_path / "dist"
    (directory / "assets").mkdir(parents=True)
    (directory / "index.html").write_bytes(INDEX)
    (directory / "assets" / "index-abc123.js").write_bytes(SCRIPT)
    (directory / "assets" / "index-abc123.css").write_text("body{margin:0}")
    (directory / "favicon.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    (tmp_path / "secret.txt").write_text("outside the build")
    return directory


@pytest.fixture
def served(start_gateway, dist):
    return start_gateway(PORTAL_DIST=str(dist))


def raw_get(base_url: str, path: str) -> tuple[int, str, bytes]:
    """GET exactly ``path`` (no client normalising ``..``): status, type, body."""
    address = urlsplit(base_url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=10)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.getheader("Content-Type", ""), response.read()
    finally:
        connection.close()


PAGES = [
    "/",
    "/items/JS-0001",
    "/items/JS-0001/apply",
    "/auth/callback?code=abc&state=xyz&iss=http%3A%2F%2F127.0.0.1",
    "/cases/a-1",
    "/my/cases/a-1",
    "/staff/worklist?state=open&page=2",
    "/operator/live",
    "/verify/JS32000020261125000001",
    "/no/such/page/the/app/says/so",
]


def test_every_page_is_index_html_revalidated(served):
    for path in PAGES:
        check_page(served.request("GET", path))


def check_page(response):
    assert response.status_code == 200
    assert response.content == INDEX
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert response.headers["Cache-Control"] == "no-cache"
    assert response.headers["Content-Security-Policy"] == PAGE_CSP
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["ETag"]


def test_assets_are_cached_for_a_year(served):
    response = served.request("GET", "/assets/index-abc123.js")
    assert response.status_code == 200 and response.content == SCRIPT
    assert response.headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    style = served.request("GET", "/assets/index-abc123.css")
    assert style.headers["Content-Type"] == "text/css; charset=utf-8"
    again = served.request(
        "GET", "/assets/index-abc123.js", headers={"If-None-Match": response.headers["ETag"]}
    )
    assert again.status_code == 304 and again.content == b""


def test_large_text_files_travel_gzipped(served, dist):
    chunk = b"export const x = 'tongban';\n" * 200
    (dist / "assets" / "vendor-def456.js").write_bytes(chunk)
    # The build is read again when index.html changes.
    (dist / "index.html").write_bytes(INDEX + b"\n")
    for _ in range(50):
        response = served.request(
            "GET", "/assets/vendor-def456.js", headers={"Accept-Encoding": "gzip"}
        )
        if response.status_code == 200:
            break
        time.sleep(0.1)
    assert response.status_code == 200
    assert response.headers["Content-Encoding"] == "gzip"
    assert response.headers["Vary"] == "Accept-Encoding"
    assert int(response.headers["Content-Length"]) < len(chunk) / 5
    assert response.content == chunk  # decoded by the client
    status, _, body = raw_get(served.base_url, "/assets/vendor-def456.js")
    assert status == 200 and body == chunk


def test_files_at_the_root_are_cached_briefly(served):
    response = served.request("GET", "/favicon.svg")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "image/svg+xml"
    assert response.headers["Cache-Control"] == "public, max-age=3600"


def test_head_answers_like_get_without_a_body(served):
    response = served.request("HEAD", "/items/JS-0001")
    assert response.status_code == 200 and response.content == b""
    assert response.headers["Content-Length"] == str(len(INDEX))


def test_an_unknown_asset_is_a_404_not_the_page(served):
    for path in ("/assets/index-000000.js", "/assets/nested/index-abc123.js", "/assets/"):
        response = served.request("GET", path)
        assert response.status_code == 404, path
        assert response.json()["error"]["code"] == "not_found"


OUTSIDE = [
    "/../secret.txt",
    "/assets/../../secret.txt",
    "/%2e%2e/secret.txt",
    "/assets/%2e%2e/%2e%2e/secret.txt",
    "/%2E%2E%2Fsecret.txt",
    "/..%2f..%2fsecret.txt",
    "/items/./x",
    "/assets/index-abc123.js%00.html",
    "/favicon.svg%00",
    "/items/%00",
    "/..%5csecret.txt",
    "/" + "a" * 300,
]


def test_no_path_reaches_outside_the_build(served):
    for path in OUTSIDE:
        status, content_type, body = raw_get(served.base_url, path)
        assert status in (404, 422), (path, status)
        assert content_type.startswith("application/json"), path
        assert b"outside the build" not in body and INDEX not in body


OWN = [
    ("GET", "/api/v1/unknown", 404),
    ("GET", "/api/unknown", 404),
    ("POST", "/api/v1/unknown", 404),
    ("GET", "/api/v1/", 404),
    ("GET", "/oidc/unknown", 404),
    ("GET", "/.well-known/unknown", 404),
    ("GET", "/healthz/more", 404),
    ("GET", "/docs/more", 404),
    ("DELETE", "/api/v1/regions", 405),
]


def test_the_gateways_own_paths_answer_as_before(served):
    for method, path, status in OWN:
        response = served.request(method, path)
        assert response.status_code == status, (method, path)
        assert response.headers["Content-Type"].startswith("application/json")
        assert response.json()["error"]["code"] in {"not_found", "method_not_allowed"}
        assert "Content-Security-Policy" not in response.headers


def test_the_operations_routes_are_unchanged(served):
    assert served.request("GET", "/healthz").json() == {"status": "ok", "service": "gateway"}
    assert served.request("GET", "/openapi.json").json()["openapi"].startswith("3.")
    assert served.request("GET", "/docs").headers["Content-Type"].startswith("text/html")
    assert served.request("GET", "/metrics").headers["Content-Type"].startswith("text/plain")
    discovery = served.request("GET", "/.well-known/openid-configuration")
    assert discovery.status_code == 200 and discovery.json()["issuer"]


def test_the_routes_are_documented_as_they_answer(served):
    paths = served.request("GET", "/openapi.json").json()["paths"]
    assert paths["/"]["get"]["responses"]["200"]["content"] == {
        "text/html": {"schema": {"type": "string"}}
    }
    for path in ("/{page}", "/assets/{asset}"):
        responses = paths[path]["get"]["responses"]
        assert {"200", "304", "404", "422"} <= set(responses)
        assert responses["404"]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/Error"
        }


def test_without_a_build_the_page_says_how_to_make_one(start_gateway, tmp_path):
    gateway = start_gateway(PORTAL_DIST=str(tmp_path / "not-built"))
    for path in ("/", "/items/JS-0001"):
        response = gateway.request("GET", path)
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "no-store"
        assert "The portal is not built" in response.text and "make portal" in response.text
    assert gateway.request("GET", "/assets/index-abc123.js").status_code == 404
    assert gateway.request("GET", "/healthz").status_code == 200
