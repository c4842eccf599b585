"""Backend pages inside the site's own shell ("one look, one origin").

The site build emits ``_shell/index.html``: the Material layout with marker comments where the
title, extra head tags and the content go. This module turns that file into the Jinja template
``shell.html`` that every backend page extends, so header, navigation, search and footer are the
site's own. The file is re-read when it changes (a rebuild switches the live site without a
restart). Hashes of the shell's inline scripts feed the Content-Security-Policy.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import re
from pathlib import Path
from typing import Any

from flask import Flask, current_app, g
from jinja2 import BaseLoader, ChoiceLoader, Environment, TemplateNotFound

log = logging.getLogger(__name__)

SHELL_FILE = Path("_shell") / "index.html"
MARKERS = {
    "title": "<!--BRUG:TITLE-->",
    "head": "<!--BRUG:HEAD-->",
    "content": "<!--BRUG:CONTENT-->",
}

# Used only when the site has not been built (e.g. backend unit tests): same markers, no theme.
FALLBACK_SHELL = """<!doctype html>
<html lang="nl"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title><!--BRUG:TITLE--> - Brug</title><!--BRUG:HEAD--></head>
<body><header><a href="/">Brug</a></header><main><!--BRUG:CONTENT--></main></body></html>
"""

_INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.S | re.I)


def shell_path(site_dir: str | os.PathLike[str]) -> Path:
    return Path(os.path.realpath(site_dir)) / SHELL_FILE


def read_shell(site_dir: str | os.PathLike[str]) -> tuple[str, Path | None]:
    path = shell_path(site_dir)
    try:
        return path.read_text(encoding="utf-8"), path
    except FileNotFoundError:
        return FALLBACK_SHELL, None


def to_template(shell_html: str) -> str:
    """Jinja source: the shell verbatim (raw) with blocks where the markers are."""
    for name, marker in MARKERS.items():
        if shell_html.count(marker) != 1:
            raise ValueError(f"shell has {shell_html.count(marker)} {name} markers, expected 1")
    source = "{% raw %}" + shell_html + "{% endraw %}"
    for name, marker in MARKERS.items():
        block = "{% endraw %}{% block " + name + " %}{% endblock %}{% raw %}"
        source = source.replace(marker, block)
    return source


def inline_script_hashes(shell_html: str) -> list[str]:
    """CSP source expressions for the shell's inline scripts (no 'unsafe-inline' needed)."""
    hashes = []
    for body in _INLINE_SCRIPT.findall(shell_html):
        digest = hashlib.sha256(body.encode("utf-8")).digest()
        hashes.append(f"'sha256-{base64.b64encode(digest).decode()}'")
    return sorted(set(hashes))


ShellKey = tuple[int, int, int, int] | None


def shell_key(site_dir: str | os.PathLike[str]) -> ShellKey:
    """Which shell file is live: one stat() through the release symlink, no realpath().

    A new release is a new file (new inode), so the key changes with every switch."""
    try:
        st = os.stat(os.path.join(site_dir, SHELL_FILE))
    except FileNotFoundError:
        return None
    return st.st_dev, st.st_ino, st.st_mtime_ns, st.st_size


class ShellLoader(BaseLoader):
    def __init__(self, app: Flask) -> None:
        self.app = app

    def get_source(self, environment: Environment, template: str) -> tuple[str, str | None, Any]:
        if template != "shell.html":
            raise TemplateNotFound(template)
        html, path = read_shell(self.app.config["SITE_DIR"])
        if path is None:
            log.warning(
                "site shell not found under %s: using the plain fallback",
                self.app.config["SITE_DIR"],
            )
            return to_template(html), None, lambda: False
        key = shell_key(self.app.config["SITE_DIR"])
        return (
            to_template(html),
            str(path),
            lambda: shell_key(self.app.config["SITE_DIR"]) == key,
        )


def _follow_the_live_shell() -> None:
    """Before each request: notice a release switch (one stat) and drop the compiled shell.

    Flask's Jinja checks templates for changes only in debug mode; without this, gunicorn and
    the embedded server kept rendering the shell they first loaded, while the CSP header
    already named the new shell's script hashes, so the old shell's scripts were blocked."""
    app = current_app
    key = shell_key(app.config["SITE_DIR"])
    g.brug_shell_key = key
    if app.extensions.get("brug.shell_key", key) != key:
        app.jinja_env.cache.clear()  # type: ignore[union-attr]
    app.extensions["brug.shell_key"] = key


def script_hashes() -> tuple[str, ...]:
    """Inline-script hashes of the live shell, read once per shell file (the request's key)."""
    site_dir = current_app.config["SITE_DIR"]
    key = g.brug_shell_key if "brug_shell_key" in g else shell_key(site_dir)
    cache = current_app.extensions.setdefault("brug.shell_hashes", {})
    if key not in cache:
        html, _path = read_shell(site_dir)
        cache.clear()
        cache[key] = tuple(inline_script_hashes(html))
    return cache[key]


def init_app(app: Flask) -> None:
    assert app.jinja_loader is not None
    app.jinja_loader = ChoiceLoader([ShellLoader(app), app.jinja_loader])
    app.before_request(_follow_the_live_shell)
