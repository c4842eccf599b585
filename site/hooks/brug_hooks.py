"""MkDocs hooks for Brug: thin adapters from MkDocs events to the brug_* modules.

- every page's front matter is validated with the backend's schema (forms_backend.content); a bad
  page fails the build with a message naming file, key and allowed values;
- overview pages are generated (or appended to existing content pages) from one index built
  while the pages are read;
- a page's ``zoekwoorden`` become its search tags;
- the shell page for the backend is emitted with root-absolute URLs;
- files in site/assets/ are published under /assets/brug/.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Any

_HOOKS = Path(__file__).resolve().parent
_ROOT = _HOOKS.parents[1]
# site/ is not a package (`site` is a stdlib name): import the brug_* modules by directory, and
# the schema from the repository root.
for _path in (str(_HOOKS), str(_ROOT)):
    if _path not in sys.path:
        sys.path.insert(0, _path)

import brug_overviews as overviews  # noqa: E402
import brug_shell as shell  # noqa: E402
import yaml  # noqa: E402
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PrefixLoader  # noqa: E402
from mkdocs.config.defaults import MkDocsConfig  # noqa: E402
from mkdocs.exceptions import PluginError  # noqa: E402
from mkdocs.structure.files import File, Files  # noqa: E402
from mkdocs.structure.nav import Navigation  # noqa: E402
from mkdocs.structure.pages import Page  # noqa: E402
from mkdocs.structure.toc import AnchorLink, TableOfContents  # noqa: E402
from mkdocs.utils import get_relative_url  # noqa: E402

from forms_backend.content import (  # noqa: E402
    FrontMatterError,
    WieIsWieRegio,
    validate_front_matter,
    validate_wie_is_wie,
)

log = logging.getLogger("mkdocs.plugins.brug")

WIE_IS_WIE = "_data/wie-is-wie.yml"
ASSETS = _ROOT / "site" / "assets"
# Templates the backend shares with the site (the facts and sources below a page's text).
SHARED_TEMPLATES = _ROOT / "forms_backend" / "templates" / "shared"


class _Build:
    """State of one build; replaced in on_files so `mkdocs serve` rebuilds start clean."""

    def __init__(self, plan: overviews.Plan, docs_dir: str) -> None:
        self.plan = plan
        # Relative to the working directory once per build, not once per page.
        self.docs_dir = os.path.relpath(docs_dir)
        self.index = overviews.SiteIndex()
        self.invalid: list[str] = []


_build: _Build | None = None


def _state() -> _Build:
    if _build is None:
        raise PluginError("brug_hooks: on_files has not run")
    return _build


def _display_path(docs_dir: str, src_uri: str, generated: bool) -> str:
    """The page's path as shown in messages; ``docs_dir`` is already relative (see _Build)."""
    if generated:
        return f"{src_uri} (gegenereerd)"
    return os.path.join(docs_dir, src_uri)


def _load_wie_is_wie(docs_dir: str) -> list[WieIsWieRegio]:
    path = Path(docs_dir) / WIE_IS_WIE
    if not path.exists():
        return []
    shown = os.path.relpath(path)
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
        return validate_wie_is_wie(data, shown)
    except yaml.YAMLError as exc:
        raise PluginError(f"{shown}: geen geldige YAML: {exc}") from None
    except FrontMatterError as exc:
        raise PluginError(str(exc)) from None


def on_files(files: Files, config: MkDocsConfig) -> Files:
    """Plan the overview pages, add the generated ones, the shell and Brug's own assets."""
    global _build
    existing = [f.src_uri for f in files.documentation_pages()]
    definitions = overviews.overview_definitions(_load_wie_is_wie(config.docs_dir))
    _build = _Build(overviews.Plan.make(definitions, existing), config.docs_dir)
    for overview in _build.plan.to_generate():
        files.append(File.generated(config, overview.src_uri, content=overview.markdown()))
    files.append(File.generated(config, shell.SRC_URI, content=shell.PAGE))
    for asset in sorted(ASSETS.rglob("*")):
        if asset.is_file():
            uri = "assets/brug/" + asset.relative_to(ASSETS).as_posix()
            files.append(File.generated(config, uri, abs_src_path=str(asset)))
    return files


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    """Validate the front matter, index the page, append an overview marker if it is one."""
    state = _state()
    src_uri = page.file.src_uri
    path = _display_path(state.docs_dir, src_uri, page.file.generated_by is not None)
    try:
        meta = validate_front_matter(page.meta, path)
    except FrontMatterError as exc:
        log.error(str(exc))
        state.invalid.append(path)
        return markdown
    if src_uri != shell.SRC_URI:
        page.meta.setdefault("description", meta.summary)
        if meta.zoekwoorden:
            # Material's search indexes a page's tags far above its title and text and shows
            # them as labels in the result; without the tags plugin they are not on the page.
            page.meta["tags"] = meta.zoekwoorden
        state.index.add(src_uri, page.url, meta)
    return markdown + state.plan.appendix_for(src_uri)


def on_env(env: Environment, config: MkDocsConfig, files: Files) -> Environment:
    """Stop before writing anything if a page failed validation; give templates Brug's labels,
    the footer's links (only to pages this build has) and the templates shared with the
    backend (``shared/…``)."""
    state = _state()
    if state.invalid:
        count = len(state.invalid)
        raise PluginError(
            f"{count} pagina('s) met ongeldige front matter (zie de meldingen hierboven): "
            + ", ".join(state.invalid)
        )
    env.globals["brug"] = overviews.template_globals()
    pages = {f.src_uri: f.url for f in files.documentation_pages()}
    env.globals["brug_footer"] = overviews.footer_links(pages)
    env.filters["nl_datum"] = overviews.nl_date
    assert env.loader is not None
    env.loader = ChoiceLoader(
        [env.loader, PrefixLoader({"shared": FileSystemLoader(SHARED_TEMPLATES)})]
    )
    # Templates do not change during a build (each build, also under `mkdocs serve`, gets a new
    # environment): without this, every include of every page stat()s its template file.
    env.auto_reload = False
    return env


def on_page_context(
    context: dict[str, Any], page: Page, config: MkDocsConfig, nav: Navigation
) -> dict[str, Any]:
    """Fill overview pages with cards (all pages are indexed by now); prepare the shell."""
    src_uri = page.file.src_uri
    if src_uri == shell.SRC_URI:
        # __config.base and __md_scope come from base_url; the shell is served at every depth.
        context["base_url"] = "/"
        page.canonical_url = None
        # Material draws its "Ga naar inhoud" link to the page's first heading; a backend page
        # has none at build time, so the shell gets one entry that points at the backend's
        # content (layout.html: id="inhoud"). The table of contents itself stays hidden.
        page.toc = TableOfContents([AnchorLink("Inhoud", shell.CONTENT_ID, 1)])
        return context
    overview = _state().plan.overviews.get(src_uri)
    if overview is not None and page.content:
        # One relative path to the site root per page, not one get_relative_url per card.
        root = get_relative_url("", page.url).rstrip("/") + "/"
        cards = overviews.render_overview(overview, _state().index, lambda url: root + url)
        page.content = page.content.replace(overviews.MARKER, cards, 1)
    return context


def on_post_page(output: str, page: Page, config: MkDocsConfig) -> str:
    """Make every URL in the shell root-absolute."""
    if page.file.src_uri == shell.SRC_URI:
        return shell.root_absolute(output)
    return output
