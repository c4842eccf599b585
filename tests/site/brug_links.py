"""Links and asset references in the built site, for the seam tests.

``backend_links(site_dir)`` is the set of backend paths (e.g. ``/aanmelden/cosa``) the static
site links to; the backend tests assert that each exists in the Flask URL map. Import it from a
test outside tests/site with::

    sys.path.insert(0, str(ROOT / "tests" / "site"))
    from brug_links import backend_links

(tests/site is not a package: ``site`` is a stdlib module name.)
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

from forms_backend import BACKEND_PREFIXES

# rel values of <link> that make the browser fetch something.
FETCHING_RELS = frozenset(
    {"stylesheet", "icon", "shortcut", "apple-touch-icon", "preload", "prefetch", "preconnect",
     "dns-prefetch", "modulepreload", "manifest", "mask-icon"}
)  # fmt: skip


@dataclass(frozen=True)
class Ref:
    """One URL in a built page: which page, which tag and attribute, and whether it is fetched."""

    page: str  # URL path of the page, e.g. "/praktijken/x/"
    tag: str
    attr: str
    url: str
    fetched: bool  # loaded by the browser without a click (scripts, styles, images, ...)


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, str, str, bool]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v for k, v in attrs if v is not None}
        if tag in ("a", "area") and "href" in a:
            self.found.append((tag, "href", a["href"], False))
        elif tag == "link" and "href" in a:
            rels = set(a.get("rel", "").lower().split())
            self.found.append((tag, "href", a["href"], bool(rels & FETCHING_RELS)))
        elif tag == "form" and "action" in a:
            self.found.append((tag, "action", a["action"], False))
        for attr in ("src", "poster", "data"):
            if attr in a and tag in ("script", "img", "iframe", "source", "video", "audio",
                                      "embed", "object", "track", "input"):  # fmt: skip
                self.found.append((tag, attr, a[attr], True))
        if "srcset" in a:
            for candidate in a["srcset"].split(","):
                if candidate.strip():
                    self.found.append((tag, "srcset", candidate.split()[0], True))


def page_url(site_dir: Path, html_file: Path) -> str:
    """The URL path a built file is served at ("/x/" for x/index.html)."""
    rel = html_file.relative_to(site_dir).as_posix()
    if rel == "index.html":
        return "/"
    if rel.endswith("/index.html"):
        return "/" + rel.removesuffix("index.html")
    return "/" + rel


def refs(site_dir: Path) -> Iterator[Ref]:
    """Every URL in every built HTML page."""
    for html_file in sorted(site_dir.rglob("*.html")):
        collector = _Collector()
        collector.feed(html_file.read_text(encoding="utf-8"))
        page = page_url(site_dir, html_file)
        for tag, attr, url, fetched in collector.found:
            yield Ref(page, tag, attr, url, fetched)


def is_external(url: str) -> bool:
    """A URL with a scheme or a host (http:, mailto:, //cdn...) points away from the site."""
    parts = urlsplit(url)
    return bool(parts.scheme or parts.netloc)


def resolve(page: str, url: str) -> str:
    """The root-absolute path a same-site URL points to, without query and fragment."""
    path = urlsplit(url).path
    if not path:
        return page
    if path.startswith("/"):
        resolved = posixpath.normpath(path)
    else:
        resolved = posixpath.normpath(posixpath.join(posixpath.dirname(page), path))
    if path.endswith("/") and resolved != "/":
        resolved += "/"
    return resolved


def is_backend(path: str) -> bool:
    """Paths the Flask backend answers, not the static site."""
    return path.startswith(BACKEND_PREFIXES)


def target_file(site_dir: Path, path: str) -> Path | None:
    """The built file a same-site path is served from, if any."""
    candidate = site_dir / path.lstrip("/")
    if path.endswith("/"):
        candidate = candidate / "index.html"
    if candidate.is_file():
        return candidate
    if (candidate / "index.html").is_file():
        return candidate / "index.html"
    return None


def internal_links(site_dir: Path) -> Iterator[tuple[Ref, str]]:
    """Every same-site URL in the built site with the path it resolves to."""
    for ref in refs(site_dir):
        if is_external(ref.url) or ref.url.startswith("#"):
            continue
        yield ref, resolve(ref.page, ref.url)


def backend_links(site_dir: Path) -> set[str]:
    """The backend paths (e.g. "/aanmelden/cosa", "/inzenden/praktijk") the built site links to."""
    return {path for _, path in internal_links(site_dir) if is_backend(path)}


def broken_links(site_dir: Path) -> list[str]:
    """Same-site links that resolve to no file in the build and are not backend paths."""
    broken = []
    for ref, path in internal_links(site_dir):
        if not is_backend(path) and target_file(site_dir, path) is None:
            broken.append(f"{ref.page}: <{ref.tag} {ref.attr}={ref.url!r}> -> {path}")
    return broken


def third_party_assets(site_dir: Path, own_hosts: frozenset[str] = frozenset()) -> list[str]:
    """Fetched resources (scripts, styles, images, fonts in CSS) that come from another host."""
    found = []
    for ref in refs(site_dir):
        if ref.fetched and is_external(ref.url) and urlsplit(ref.url).netloc not in own_hosts:
            found.append(f"{ref.page}: <{ref.tag} {ref.attr}={ref.url!r}>")
    for css in sorted(site_dir.rglob("*.css")):
        text = css.read_text(encoding="utf-8", errors="replace")
        for marker in ("url(http", "url('http", 'url("http', "url(//", "@import"):
            if marker in text:
                found.append(f"{css.relative_to(site_dir)}: {marker}")
    return found
