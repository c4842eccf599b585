"""The shell page: the site's layout with markers where the backend puts its own HTML.

The backend serves pages at any depth (/aanmelden/cosa, /beheer/vrijwilligers/12) inside this
one page, so every URL in it must be root-absolute. MkDocs renders relative URLs; the shell
lives one level deep (/_shell/), so ``../x`` there means ``/x``.
"""

from __future__ import annotations

import re

SRC_URI = "_shell.md"
CONTENT_ID = "inhoud"  # the backend's content (forms_backend/templates/layout.html)

TITLE = "<!--BRUG:TITLE-->"
HEAD = "<!--BRUG:HEAD-->"
CONTENT = "<!--BRUG:CONTENT-->"
MARKERS = (TITLE, HEAD, CONTENT)

PAGE = """---
type: pagina
title: Brug
summary: Sjabloon waarin de backend zijn pagina's toont.
template: shell.html
search:
  exclude: true
hide:
  - toc
---
"""

# href="../x", src='../x', href=".." and the like, one level up from /_shell/.
_RELATIVE_ATTR = re.compile(r"""(\s(?:href|src|action|content)=)(["'])\.\.(?:/|(?=\2))""")
# URLs inside the JSON of <script id="__config"> ("search": "../assets/...").
_RELATIVE_JSON = re.compile(r'(:\s*)"\.\./')


def root_absolute(html: str) -> str:
    """Rewrite the shell's relative URLs (rendered at /_shell/) to root-absolute ones."""
    html = _RELATIVE_ATTR.sub(lambda m: f"{m.group(1)}{m.group(2)}/", html)
    return _RELATIVE_JSON.sub(lambda m: f'{m.group(1)}"/', html)
