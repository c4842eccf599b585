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

from flask import Flask, current_app
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
        stamp = _stamp(path)
        return (
            to_template(html),
            str(path),
            lambda: _stamp(shell_path(self.app.config["SITE_DIR"])) == stamp,
        )


def _stamp(path: Path) -> tuple[str, float] | None:
    try:
        return str(path), path.stat().st_mtime
    except FileNotFoundError:
        return None


def script_hashes() -> list[str]:
    """Current inline-script hashes of the live shell, cached per shell file version.

    Called for every response (the CSP header): a stat() per call, the file is read only when
    it changed."""
    key = _stamp(shell_path(current_app.config["SITE_DIR"]))
    cache = current_app.extensions.setdefault("brug.shell_hashes", {})
    if key not in cache:
        html, _path = read_shell(current_app.config["SITE_DIR"])
        cache.clear()
        cache[key] = inline_script_hashes(html)
    return cache[key]


def init_app(app: Flask) -> None:
    assert app.jinja_loader is not None
    app.jinja_loader = ChoiceLoader([ShellLoader(app), app.jinja_loader])
