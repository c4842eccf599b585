"""MkDocs hook: make the theme's markup valid HTML (the Nu HTML Checker finds no errors).

Material for MkDocs writes three things the checker rejects, in templates without a block to
override (base.html, partials/nav-item.html, partials/toc.html), and one that Lighthouse's
accessibility audit rejects (partials/search.html):

- ``autocomplete="off"`` on its drawer and search toggle checkboxes (only text-like inputs may
  carry it);
- ``tabindex=""`` on section labels in the navigation (must be an integer, or absent);
- ``<label for="__toc">`` on pages outside the navigation, where no ``__toc`` checkbox exists;
- the search dialog (``role="dialog"``) has no accessible name: it gets ``aria-label="Zoeken"``.

Each fix changes exactly that attribute; browsers already treat the invalid forms as absent.
"""

from __future__ import annotations

import re
from typing import Any

_CHECKBOX_AUTOCOMPLETE = re.compile(r'(<input\b[^>]*\btype="checkbox"[^>]*?)\s+autocomplete="off"')
_EMPTY_TABINDEX = re.compile(r'\s+tabindex=""')
_TOC_LABEL = re.compile(r'(<label\b[^>]*?)\s+for="__toc"')
_SEARCH_DIALOG = '<div class="md-search" data-md-component="search" role="dialog">'


def valid_markup(output: str) -> str:
    output = _CHECKBOX_AUTOCOMPLETE.sub(r"\1", output)
    output = _EMPTY_TABINDEX.sub("", output)
    if 'id="__toc"' not in output:
        output = _TOC_LABEL.sub(r"\1", output)
    return output.replace(_SEARCH_DIALOG, _SEARCH_DIALOG[:-1] + ' aria-label="Zoeken">')


def on_post_page(output: str, page: Any, config: Any) -> str:
    return valid_markup(output)


def on_post_template(output_content: str, template_name: str, config: Any) -> str:
    """Static templates (404.html) are rendered outside the page events."""
    return valid_markup(output_content) if template_name.endswith(".html") else output_content
