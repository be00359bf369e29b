"""The portal's build in memory: which files, their types and caching, which
paths can never name a file, which paths are pages, and a build made again."""

import gzip
import os

import pytest
from werkzeug.routing import Map, Rule
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from gateway import portal
from gateway.http import PageConverter
from gateway.portal import PortalBuild, file_response, safe_relative_path

INDEX = b'<!doctype html><script type="module" src="/assets/index-abc123.js"></script>'


def make_build(directory):
    (directory / "assets").mkdir(parents=True)
    (directory / "index.html").write_bytes(INDEX)
    (directory / "assets" / "index-abc123.js").write_text("console.log(1)")
    (directory / "assets" / "index-abc123.css").write_text("body{}")
    (directory / "favicon.svg").write_text("<svg/>")
    return directory


def test_a_build_is_read_once_with_types_and_caching(tmp_path):
    build = PortalBuild.read(make_build(tmp_path / "dist"))
    assert build.built
    assert sorted(build.files) == [
        "assets/index-abc123.css",
        "assets/index-abc123.js",
        "favicon.svg",
        "index.html",
    ]
    index = build.files["index.html"]
    assert (index.body, index.content_type, index.cache_control) == (
        INDEX,
        "text/html; charset=utf-8",
        "no-cache",
    )
    script = build.files["assets/index-abc123.js"]
    assert script.content_type == "text/javascript; charset=utf-8"
    assert script.cache_control == "public, max-age=31536000, immutable"
    assert build.files["assets/index-abc123.css"].content_type == "text/css; charset=utf-8"
    favicon = build.files["favicon.svg"]
    assert (favicon.content_type, favicon.cache_control) == (
        "image/svg+xml",
        "public, max-age=3600",
    )
    assert index.etag != script.etag


def test_a_folder_without_index_html_is_no_build(tmp_path):
    assert not PortalBuild.read(tmp_path / "missing").built
    (tmp_path / "half").mkdir()
    (tmp_path / "half" / "favicon.svg").write_text("<svg/>")
    build = PortalBuild.read(tmp_path / "half")
    assert not build.built and build.files == {}


def test_symbolic_links_and_hidden_files_are_not_served(tmp_path):
    dist = make_build(tmp_path / "dist")
    secret = tmp_path / "secret.txt"
    secret.write_text("not for the web")
    os.symlink(secret, dist / "assets" / "secret.txt")
    os.symlink(tmp_path, dist / "up")
    (dist / ".env").write_text("X=1")
    build = PortalBuild.read(dist)
    assert "assets/secret.txt" not in build.files
    assert not any(name.startswith(("up/", ".")) for name in build.files)


@pytest.mark.parametrize(
    "path",
    [
        "../secret.txt",
        "assets/../../secret.txt",
        "..",
        ".",
        "./index.html",
        "assets//index-abc123.js",
        "assets\\..\\index.html",
        "index.html\x00.js",
        "",
    ],
)
def test_no_path_leaves_the_build(tmp_path, path):
    build = PortalBuild.read(make_build(tmp_path / "dist"))
    assert not safe_relative_path(path)
    assert build.file(path) is None


def test_a_build_made_again_is_read_again(tmp_path, monkeypatch):
    dist = make_build(tmp_path / "dist")
    files = portal.PortalFiles()
    files.container = type("Container", (), {"config": {"PORTAL_DIST": str(dist)}})()
    files.setup()
    assert files.current().file("assets/index-abc123.js") is not None
    (dist / "assets" / "index-abc123.js").unlink()
    (dist / "assets" / "index-def456.js").write_text("console.log(2)")
    (dist / "index.html").write_text("<!doctype html><title>new build</title>")
    os.utime(dist / "index.html", ns=(1, 1))
    # Looked at no more than once a second.
    assert files.current().file("assets/index-def456.js") is None
    monkeypatch.setattr(portal, "RECHECK_SECONDS", 0.0)
    build = files.current()
    assert build.file("assets/index-def456.js") is not None
    assert build.file("assets/index-abc123.js") is None
    assert b"new build" in build.index.body


def test_the_default_build_is_the_projects_portal_dist():
    assert portal.dist_of({}) == portal.PROJECT_ROOT / "portal" / "dist"
    assert portal.dist_of({"PORTAL_DIST": ""}) == portal.PROJECT_ROOT / "portal" / "dist"
    assert str(portal.dist_of({"PORTAL_DIST": "/srv/portal"})) == "/srv/portal"


def test_a_matching_etag_is_a_304(tmp_path):
    build = PortalBuild.read(make_build(tmp_path / "dist"))
    file = build.files["assets/index-abc123.js"]
    fresh = file_response(file, Request(EnvironBuilder(path="/").get_environ()))
    assert fresh.status_code == 200 and fresh.headers["ETag"] == f'"{file.etag}"'
    again = Request(
        EnvironBuilder(path="/", headers={"If-None-Match": f'"{file.etag}"'}).get_environ()
    )
    response = file_response(file, again)
    assert response.status_code == 304
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"


def request_with(headers):
    return Request(EnvironBuilder(path="/", headers=headers).get_environ())


def test_text_files_are_gzipped_once_for_clients_that_accept_it(tmp_path):
    directory = make_build(tmp_path / "dist")
    chunk = "export const a = 1;\n" * 400
    (directory / "assets" / "big-1.js").write_text(chunk)
    (directory / "assets" / "photo-1.png").write_bytes(b"\x89PNG" + b"\x00" * 4000)
    build = PortalBuild.read(directory)
    big = build.files["assets/big-1.js"]
    assert big.compressible and gzip.decompress(big.gzipped) == chunk.encode()
    # Too small to gain, or not text: sent as they are.
    assert not build.files["assets/index-abc123.js"].compressible
    assert not build.files["assets/photo-1.png"].compressible

    packed = file_response(big, request_with({"Accept-Encoding": "gzip, br"}))
    assert packed.headers["Content-Encoding"] == "gzip"
    assert packed.headers["Vary"] == "Accept-Encoding"
    assert packed.get_data() == big.gzipped
    assert packed.headers["ETag"] == f'"{big.etag}-gz"'

    for refusing in ({}, {"Accept-Encoding": "identity"}, {"Accept-Encoding": "gzip;q=0"}):
        plain = file_response(big, request_with(refusing))
        assert "Content-Encoding" not in plain.headers
        assert plain.headers["Vary"] == "Accept-Encoding"
        assert plain.get_data() == chunk.encode()
        assert plain.headers["ETag"] == f'"{big.etag}"'

    again = file_response(
        big, request_with({"Accept-Encoding": "gzip", "If-None-Match": f'"{big.etag}-gz"'})
    )
    assert again.status_code == 304
    small = file_response(build.files["favicon.svg"], request_with({"Accept-Encoding": "gzip"}))
    assert "Content-Encoding" not in small.headers and "Vary" not in small.headers


@pytest.mark.parametrize(
    ("path", "page"),
    [
        ("/items/JS-0001", "items/JS-0001"),
        ("/items/JS-0001/apply", "items/JS-0001/apply"),
        ("/auth/callback", "auth/callback"),
        ("/staff/cases/a-1", "staff/cases/a-1"),
        ("/operator/live", "operator/live"),
        ("/my/cases/x", "my/cases/x"),
        ("/favicon.svg", "favicon.svg"),
        ("/apis", "apis"),
        ("/docs-and-more", "docs-and-more"),
        ("/api", None),
        ("/api/v1/unknown", None),
        ("/oidc/anything", None),
        ("/.well-known/x", None),
        ("/healthz", None),
        ("/healthz/x", None),
        ("/readyz", None),
        ("/metrics", None),
        ("/openapi.json", None),
        ("/docs", None),
        ("/docs/x", None),
    ],
)
def test_pages_are_every_path_but_the_gateways_own(path, page):
    url_map = Map([Rule("/<page:page>", endpoint="page")], converters={"page": PageConverter})
    adapter = url_map.bind("tongban.example")
    try:
        _, values = adapter.match(path)
    except Exception:  # noqa: BLE001  (werkzeug's NotFound)
        values = {"page": None}
    assert values["page"] == page
