"""The reference portal (``portal/dist``, built by ``make portal``) at "/".

The build is read into memory when the gateway starts, and again when its
``index.html`` changes (looked at once a second at most), so a request costs a
dictionary look-up. Paths:

- ``/`` and any other path that is not the gateway's own (``PAGE_EXCLUDED`` in
  ``gateway.http``: /api/, /oidc/, /.well-known/, /healthz ...) and not a file of
  the build answer ``index.html``: the portal's pages (/items/..., /auth/callback,
  /staff/...) are routes of the application, which shows its own "page not
  found". ``Cache-Control: no-cache``, so a new build is picked up at once.
- ``/assets/<name>``: the build's files, named by their content hash, cached
  for a year (``immutable``). An unknown asset is a 404, never index.html.
- Other files at the root of the build (favicon.svg): an hour.

Text files (HTML, JavaScript, CSS, JSON, SVG) of more than ``COMPRESS_MIN_BYTES``
are gzipped once, when the build is read, and answered so to a client that
accepts gzip (``Vary: Accept-Encoding``; the gzipped body has an ETag of its
own): the main chunk goes over the wire at about a third of its size.

Files are found by looking their relative path up in the table made when the
build was read (regular files under the build's folder, no symbolic links), so
no path can name a file outside it; a path with a ``..`` or ``.`` segment, a
backslash or a NUL is refused before that. A refusal is the API's JSON 404,
as test clients and the error table expect of every route. Every file answers
with an ETag (an If-None-Match that matches is a 304) and the security headers
below.

Without a build (PORTAL_DIST, default ``<project>/portal/dist``, holds no
index.html) the portal's pages answer 200 with a page saying that the portal is
not built and how to build it (``make portal``): the API and the provider work
as ever, and nothing alerts on a machine without Node.js.
"""

import gzip
import hashlib
import logging
import os
import threading
import time
from dataclasses import dataclass
from html import escape
from pathlib import Path

from nameko.extensions import DependencyProvider
from werkzeug.wrappers import Response

from gateway.http import Answer, Call, route
from services.common.config import PROJECT_ROOT
from services.common.errors import NotFound

log = logging.getLogger(__name__)

DEFAULT_DIST = PROJECT_ROOT / "portal" / "dist"
RECHECK_SECONDS = 1.0
TAGS = ("portal",)

PAGE_CACHE = "no-cache"
ASSET_CACHE = "public, max-age=31536000, immutable"
ROOT_FILE_CACHE = "public, max-age=3600"

# The built app has no inline script and evaluates no strings. Inline style
# attributes only: ECharts writes its tooltips (live dashboard) as HTML with
# style attributes; style elements and outside style sheets stay refused.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; style-src-attr 'unsafe-inline';"
    " img-src 'self'; font-src 'self'; connect-src 'self'; object-src 'none';"
    " base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    # A page's path names cases and licences, and /auth/callback carries the
    # authorization code: other sites learn nothing of it.
    "Referrer-Policy": "same-origin",
}

MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".webmanifest": "application/manifest+json",
    ".map": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".webp": "image/webp",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
    ".woff": "font/woff",
    ".txt": "text/plain; charset=utf-8",
}
OTHER_MEDIA_TYPE = "application/octet-stream"

COMPRESSIBLE = ("text/", "application/json", "application/manifest+json", "image/svg+xml")
COMPRESS_MIN_BYTES = 1024


@dataclass(frozen=True)
class PortalFile:
    body: bytes
    content_type: str
    etag: str
    cache_control: str
    gzipped: bytes | None = None

    @property
    def compressible(self) -> bool:
        return self.gzipped is not None


def gzipped_of(body: bytes, content_type: str) -> bytes | None:
    """The body gzipped (mtime 0, so a build gzips the same way every time), or
    None where it is not text, too small, or would not get smaller."""
    if len(body) < COMPRESS_MIN_BYTES or not content_type.startswith(COMPRESSIBLE):
        return None
    packed = gzip.compress(body, compresslevel=9, mtime=0)
    return packed if len(packed) < len(body) else None


def media_type_of(name: str) -> str:
    return MEDIA_TYPES.get(os.path.splitext(name)[1].lower(), OTHER_MEDIA_TYPE)


def cache_control_of(relative: str) -> str:
    if relative == "index.html":
        return PAGE_CACHE
    if relative.startswith("assets/"):
        return ASSET_CACHE
    return ROOT_FILE_CACHE


@dataclass(frozen=True)
class PortalBuild:
    """The files of one build, by their path relative to its folder."""

    directory: Path
    files: dict[str, PortalFile]
    stamp: tuple | None = None

    @property
    def built(self) -> bool:
        return "index.html" in self.files

    @property
    def index(self) -> PortalFile | None:
        return self.files.get("index.html")

    @classmethod
    def read(cls, directory: Path) -> "PortalBuild":
        """Every regular file under ``directory`` (none when it has no index.html)."""
        stamp = stamp_of(directory)
        if stamp is None:
            return cls(directory, {})
        files = {}
        for folder, subfolders, names in os.walk(directory, followlinks=False):
            subfolders[:] = [name for name in subfolders if not name.startswith(".")]
            for name in names:
                path = Path(folder, name)
                if name.startswith(".") or path.is_symlink() or not path.is_file():
                    continue
                relative = path.relative_to(directory).as_posix()
                body = path.read_bytes()
                content_type = media_type_of(name)
                files[relative] = PortalFile(
                    body=body,
                    content_type=content_type,
                    etag=hashlib.sha256(body).hexdigest()[:32],
                    cache_control=cache_control_of(relative),
                    gzipped=gzipped_of(body, content_type),
                )
        return cls(directory, files, stamp)

    def file(self, relative: str) -> PortalFile | None:
        """The build's file at ``relative`` (a path under "/"), or None."""
        if not safe_relative_path(relative):
            return None
        return self.files.get(relative)


def stamp_of(directory: Path) -> tuple | None:
    """What changes when the build is made again: its index.html's time and size."""
    try:
        status = (directory / "index.html").stat()
    except OSError:
        return None
    return (status.st_mtime_ns, status.st_size)


def safe_relative_path(relative: str) -> bool:
    """No empty, ``.`` or ``..`` segment, no backslash, no NUL: a name of a
    file inside the build, or of a page, never a way out of the folder."""
    if not relative or "\x00" in relative or "\\" in relative:
        return False
    return all(segment not in ("", ".", "..") for segment in relative.split("/"))


def dist_of(config) -> Path:
    return Path(config.get("PORTAL_DIST") or DEFAULT_DIST)


class PortalFiles(DependencyProvider):
    """The portal's build in memory, read again when it was made again."""

    def setup(self):
        self.directory = dist_of(self.container.config)
        self.lock = threading.Lock()
        self.build = PortalBuild.read(self.directory)
        self.checked = time.monotonic()
        if self.build.built:
            log.info("portal: %d files from %s", len(self.build.files), self.directory)
        else:
            log.warning("portal: not built (%s has no index.html): make portal", self.directory)

    def current(self) -> PortalBuild:
        now = time.monotonic()
        if now - self.checked >= RECHECK_SECONDS:
            with self.lock:
                if now - self.checked >= RECHECK_SECONDS:
                    self.checked = now
                    if stamp_of(self.directory) != self.build.stamp:
                        self.build = PortalBuild.read(self.directory)
        return self.build

    def get_dependency(self, worker_ctx):
        return self


# -- answers -------------------------------------------------------------------


def accepts_gzip(request) -> bool:
    return request.accept_encodings["gzip"] > 0


def file_response(file: PortalFile, request) -> Response:
    packed = file.compressible and accepts_gzip(request)
    body = file.gzipped if packed else file.body
    response = Response(body, status=200, content_type=file.content_type)
    response.headers.update(SECURITY_HEADERS)
    response.headers["Cache-Control"] = file.cache_control
    if file.compressible:
        # Caches keep the two forms apart.
        response.headers["Vary"] = "Accept-Encoding"
    if packed:
        response.headers["Content-Encoding"] = "gzip"
        response.set_etag(file.etag + "-gz")
    else:
        response.set_etag(file.etag)
    return response.make_conditional(request)


NOT_BUILT = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>tongban: the portal is not built</title></head>
<body>
<h1>The portal is not built</h1>
<p>This gateway serves the web portal from <code>{directory}</code>, which holds no
<code>index.html</code>. Build it with <code>make portal</code> (Node.js 20.19 or newer and npm:
<code>cd portal &amp;&amp; npm ci &amp;&amp; npm run build</code>); the gateway picks the build
up within a second. The API is at <a href="/docs">/docs</a>.</p>
</body></html>
"""


def not_built(build: PortalBuild) -> Response:
    """200, so that a machine without Node.js still runs everything else: the
    page says what is missing."""
    body = NOT_BUILT.format(directory=escape(str(build.directory)))
    response = Response(body, status=200, content_type="text/html; charset=utf-8")
    response.headers.update(SECURITY_HEADERS)
    response.headers["Cache-Control"] = "no-store"
    return response


NOT_MODIFIED = Answer(
    "Not modified: If-None-Match named the file's current ETag",
    content_type=None,
    headers={"ETag": "the file's digest"},
)


class PortalRoutes:
    """Mixed into ``GatewayService``: the portal's pages and files. A path
    refused (``..``, NUL, an unknown asset) is the API's JSON 404."""

    portal = PortalFiles()

    @route(
        "GET",
        "/",
        tags=TAGS,
        summary="The portal (index.html)",
        description=(
            "The portal's single page (index.html, Cache-Control: no-cache). Where the"
            " gateway has no build of the portal (PORTAL_DIST), a page saying so and how"
            " to build it (make portal), also 200."
        ),
        content_type="text/html",
        answers={304: NOT_MODIFIED},
    )
    def portal_index(self, call: Call):
        build = self.portal.current()
        if not build.built:
            return not_built(build)
        return file_response(build.index, call.request)

    @route(
        "GET",
        "/assets/<asset>",
        tags=TAGS,
        summary="A file of the portal's build",
        description=(
            "JavaScript, style sheets, images and fonts of the portal, named by their"
            " content hash: Cache-Control: public, max-age=31536000, immutable."
            " Text files are gzipped for a client that accepts it (Vary: Accept-Encoding)."
            " An unknown name is a 404 (never the page)."
        ),
        content_type="*/*",
        errors=(404, 422),
        answers={304: NOT_MODIFIED},
    )
    def portal_asset(self, call: Call, asset: str):
        file = self.portal.current().file(f"assets/{asset}")
        if file is None:
            raise NotFound("no such file in the portal's build")
        return file_response(file, call.request)

    @route(
        "GET",
        "/<page:page>",
        tags=TAGS,
        summary="A page of the portal (index.html), or a file at the root of its build",
        description=(
            "Every path that is not the API's (/api/), the OpenID Connect provider's"
            " (/oidc/, /.well-known/) or an operations route (/healthz, /readyz, /metrics,"
            " /openapi.json, /docs) is a page of the portal: index.html (Cache-Control:"
            " no-cache), which routes it in the browser and shows its own page not found."
            " A file at the root of the build (favicon.svg) answers itself (an hour's"
            " caching). A path with a . or .. segment, a backslash or a NUL is a 404, as is"
            " anything under /assets/ that is not a file of the build. Without a build,"
            " the page of GET / saying how to make one."
        ),
        content_type="*/*",
        errors=(404, 422),
        answers={304: NOT_MODIFIED},
    )
    def portal_page(self, call: Call, page: str):
        build = self.portal.current()
        if not safe_relative_path(page.removesuffix("/")):
            raise NotFound("no such page")
        file = build.file(page)
        if file is not None:
            return file_response(file, call.request)
        if page.startswith("assets/"):
            raise NotFound("no such file in the portal's build")
        if not build.built:
            return not_built(build)
        return file_response(build.index, call.request)
