"""Make submitted Markdown safe to publish, and render it exactly as the site will.

A submitted body becomes a page in ``content/`` that MkDocs renders with Python-Markdown, which
passes raw HTML straight through. So the *source* must be made inert, not only the preview:

1. ``neutralise`` rewrites the source structurally: outside code, ``<``, ``&`` and ``{``/``}``
   become entities (no raw HTML, no comments, no autolinks, no ``attr_list`` attributes such as
   ``onclick``, no Jinja); inside code, Jinja delimiters and snippet markers (``--8<--``) are
   broken with an invisible space; fence lines keep only a language name.
2. ``check_markdown`` renders the result with the site's own Markdown extensions and asks a
   maintained sanitiser (nh3, with an allowlist) to clean it. If nh3 would change any tag or
   attribute, the source is escaped further (code too) and checked again; if that still is not
   clean, the body is refused. Links and images are checked on the rendered HTML (entities
   decoded, as a browser would): only http(s) and mailto links, site paths that exist, no
   ``javascript:``, ``data:`` or relative file links, no images from other hosts.

No Flask here: the preview view, the approval and the tests call these functions.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import markdown
import nh3
import yaml

ROOT = Path(__file__).resolve().parent.parent
MKDOCS_YML = ROOT / "mkdocs.yml"
# MkDocs always adds these before the configured ones.
MKDOCS_BUILTIN_EXTENSIONS = ("toc", "tables", "fenced_code")

ZWSP = "\u200b"
_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*\.?(?P<lang>[\w#.+-]*)")
_JINJA = re.compile(r"\{(?=[{%#])")
_SNIPPET = re.compile(r"-+8<")
_BACKTICKS = re.compile(r"(?<!\\)`+")

# What Python-Markdown with the site's extensions may produce; nh3 removes everything else.
ALLOWED_TAGS = nh3.ALLOWED_TAGS | {"details", "summary"}
ALLOWED_ATTRIBUTES: dict[str, set[str]] = {
    "*": {"id", "class", "title"},
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "td": {"style", "align"},
    "th": {"style", "align"},
    "ol": {"start"},
    "details": {"open"},
}
URL_SCHEMES = {"http", "https", "mailto"}


class UnsafeMarkdown(ValueError):
    """Markdown that cannot be made safe; the message is Dutch and names the problem."""


@dataclass
class SafeMarkdown:
    """A neutralised body, its rendered (and nh3-cleaned) HTML, and problems to fix."""

    source: str
    html: str
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


# ---------------------------------------------------------------------------------------------
# the site's renderer


class _SiteLoader(yaml.SafeLoader):
    """Reads mkdocs.yml; MkDocs' ``!!python/...``, ``!ENV`` and ``!relative`` tags become None."""


def _ignore(loader: yaml.SafeLoader, suffix: str, node: yaml.Node | None = None) -> None:
    return None


_SiteLoader.add_multi_constructor("tag:yaml.org,2002:python/", _ignore)
_SiteLoader.add_multi_constructor("!", _ignore)


@functools.cache
def site_extensions(
    config_file: str = str(MKDOCS_YML),
) -> tuple[list[str], dict[str, dict[str, Any]]]:
    """The Markdown extensions (and their settings) the site build uses."""
    with open(config_file, encoding="utf-8") as handle:
        config = yaml.load(handle, Loader=_SiteLoader) or {}  # noqa: S506 - SafeLoader subclass
    names = list(MKDOCS_BUILTIN_EXTENSIONS)
    settings: dict[str, dict[str, Any]] = {}
    for item in config.get("markdown_extensions") or []:
        name, options = (item, {}) if isinstance(item, str) else next(iter(item.items()))
        if name not in names:
            names.append(name)
        settings[name] = {k: v for k, v in (options or {}).items() if v is not None}
    return names, settings


def render_markdown(source: str) -> str:
    """HTML as the site renders this Markdown (same extensions, same settings)."""
    names, settings = site_extensions()
    return markdown.Markdown(extensions=names, extension_configs=settings).convert(source)


# ---------------------------------------------------------------------------------------------
# neutralising the source


def escape_text(text: str) -> str:
    """Text outside code: no HTML, no entities of the submitter's own, no attribute lists."""
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace("{", "&#123;")
        .replace("}", "&#125;")
    )


def _code_safe(text: str) -> str:
    """Inside code the renderer escapes HTML itself; break only template and snippet syntax."""
    text = _JINJA.sub("{" + ZWSP, text)
    return _SNIPPET.sub(lambda m: m.group(0)[:-1] + ZWSP + "<", text)


def _escape_line(line: str) -> str:
    """Escape one line of text, leaving inline code spans (backtick runs) as code."""
    out: list[str] = []
    pos = 0
    while True:
        opening = _BACKTICKS.search(line, pos)
        if opening is None:
            out.append(escape_text(line[pos:]))
            return "".join(out)
        ticks = opening.group(0)
        closing = re.compile(r"(?<!`)" + ticks + r"(?!`)").search(line, opening.end())
        if closing is None:
            out.append(escape_text(line[pos : opening.end()]))
            pos = opening.end()
            continue
        out.append(escape_text(line[pos : opening.start()]))
        out.append(_code_safe(line[opening.start() : closing.end()]))
        pos = closing.end()


def _lines(source: str) -> list[str]:
    return source.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def _fenced(source: str) -> Iterator[tuple[str, str, re.Match[str] | None]]:
    """Each line with what it is: "open" (a code fence's first line, with its match), "code",
    "close" (the fence's last line) or "text" (outside code)."""
    fence: str | None = None
    for line in _lines(source):
        match = _FENCE.match(line)
        if fence is None and match:
            fence = match.group("fence")
            yield "open", line, match
        elif fence is not None:
            stripped = line.strip()
            if stripped and set(stripped) == {fence[0]} and len(stripped) >= len(fence):
                fence = None
                yield "close", line, None
            else:
                yield "code", line, None
        else:
            yield "text", line, None


def neutralise(source: str, *, strict: bool = False) -> str:
    """The Markdown with everything that could run or include something made inert.

    ``strict`` escapes code too: uglier (``&lt;`` shows in code) but independent of how the
    renderer finds code; used when the structural pass did not satisfy the sanitiser.
    """
    if strict:
        return "\n".join(escape_text(_code_safe(line)) for line in _lines(source))
    out: list[str] = []
    for kind, line, match in _fenced(source):
        if match is not None:
            out.append(
                match.group("indent") + match.group("fence") + escape_text(match.group("lang"))
            )
        elif kind == "close":
            out.append(line)
        elif kind == "code":
            out.append(_code_safe(line))
        else:
            out.append(_escape_line(line))
    return "\n".join(out)


# ---------------------------------------------------------------------------------------------
# checking the rendered result


class _Structure(HTMLParser):
    """Tags, attributes (entities decoded) and comments of an HTML fragment, in order."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.items: list[tuple[Any, ...]] = []
        self.links: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        # Link targets are judged by the link check (with Dutch messages), not compared here.
        cleaned = tuple(
            sorted(
                (name, _norm_attr(name, value or ""))
                for name, value in attrs
                if name not in ("href", "src")
            )
        )
        self.items.append(("start", tag, cleaned))
        for name, value in attrs:
            if name in ("href", "src"):
                self.links.append((tag, value or ""))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        self.items.append(("end", tag))

    def handle_comment(self, data: str) -> None:
        self.items.append(("comment", data))

    def handle_pi(self, data: str) -> None:
        self.items.append(("pi", data))

    def handle_decl(self, decl: str) -> None:
        self.items.append(("decl", decl))


def _norm_attr(name: str, value: str) -> str:
    return re.sub(r"[\s;]+", "", value).lower() if name == "style" else value


def structure(fragment: str) -> _Structure:
    parser = _Structure()
    parser.feed(fragment)
    parser.close()
    return parser


def clean_html(
    fragment: str, attribute_filter: Callable[[str, str, str], str | None] | None = None
) -> str:
    """nh3 with Brug's allowlist: what may appear in a published body."""
    return nh3.clean(
        fragment,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        attribute_filter=attribute_filter,
        url_schemes=URL_SCHEMES,
        link_rel=None,
        strip_comments=True,
        filter_style_properties={"text-align"},
    )


def without_foreign_images(fragment: str) -> str:
    """For a preview of a body that still has problems: an image from another host keeps its
    alt text but loses its address, so showing the preview makes no request to that host."""

    def keep(tag: str, attribute: str, value: str) -> str | None:
        if tag == "img" and attribute == "src" and not _own_image(_as_browsers_read(value)):
            return None
        return value

    return clean_html(fragment, attribute_filter=keep)


def _as_browsers_read(raw: str) -> str:
    """Browsers drop ASCII whitespace and control characters inside URLs ("java\tscript:")."""
    return "".join(ch for ch in raw if ord(ch) > 0x20 and ch != "\x7f")


def _own_image(url: str) -> bool:
    parts = urlsplit(url)
    return not (parts.scheme or parts.netloc) and url.startswith("/")


def _sanitiser_agrees(rendered: str) -> bool:
    return structure(rendered).items == structure(clean_html(rendered)).items


def _url_problem(
    tag: str, raw: str, site_dir: Path | None, backend_prefixes: Iterable[str]
) -> str | None:
    url = _as_browsers_read(raw)
    shown = raw if len(raw) <= 60 else raw[:57] + "..."
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if tag == "img":
        if not _own_image(url):
            return (
                f"Afbeelding '{shown}': gebruik alleen afbeeldingen van deze site "
                "(een pad dat met / begint)."
            )
    elif scheme:
        if scheme not in URL_SCHEMES:
            return (
                f"Link '{shown}' is niet toegestaan. "
                "Een link begint met https://, http:// of mailto:."
            )
        if scheme in ("http", "https") and not parts.netloc:
            return f"Link '{shown}' is geen volledig webadres."
        return None
    elif url.startswith("//"):
        return f"Link '{shown}': schrijf het webadres voluit, met https:// ervoor."
    elif url.startswith("#") or url == "":
        return None
    elif not url.startswith("/"):
        return (
            f"Link '{shown}': gebruik een volledig adres (https://...) "
            "of een pad op deze site dat met / begint."
        )
    if site_dir is None or any(
        parts.path.startswith(p) or parts.path == p.rstrip("/") for p in backend_prefixes
    ):
        return None
    target = Path(site_dir, parts.path.lstrip("/"))
    candidates = (
        [target, target / "index.html"]
        if parts.path.endswith("/") or not target.suffix
        else [target]
    )
    if ".." in parts.path.split("/") or not any(c.is_file() for c in candidates):
        return f"Link '{shown}' wijst naar een pagina die niet op de site staat."
    return None


def check_markdown(
    source: str,
    *,
    site_dir: str | Path | None = None,
    backend_prefixes: Iterable[str] = (),
) -> SafeMarkdown:
    """Neutralise ``source``, render it like the site, and report what must still be fixed.

    Raises UnsafeMarkdown only if even the strict escape does not satisfy the sanitiser (which
    would mean a renderer surprise); link problems are returned for the person to fix.
    """
    for strict in (False, True):
        safe_source = neutralise(source, strict=strict)
        rendered = render_markdown(safe_source)
        if _sanitiser_agrees(rendered):
            break
    else:
        raise UnsafeMarkdown("De tekst bevat opmaak die we niet veilig kunnen publiceren.")
    # Internal links are checked against the live site, when there is one.
    site = (
        Path(site_dir) if site_dir is not None and Path(site_dir, "index.html").is_file() else None
    )
    prefixes = tuple(backend_prefixes)
    problems = []
    for tag, url in structure(rendered).links:
        problem = _url_problem(tag, url, site, prefixes)
        if problem and problem not in problems:
            problems.append(problem)
    return SafeMarkdown(source=safe_source, html=clean_html(rendered), problems=problems)


def inline_text(value: str) -> str:
    """A one-line value (a title) safe to put in a Markdown heading."""
    return escape_text(" ".join(value.split()))


# ---------------------------------------------------------------------------------------------
# plain text (calendar DESCRIPTION: CALENDAR.md asks for plain text)

_HEADINGS = frozenset(f"h{n}" for n in range(1, 7))
_BLOCKS = _HEADINGS | {"p", "div", "ul", "ol", "pre", "blockquote", "table", "tr", "dl", "details"}


class _PlainText(HTMLParser):
    def __init__(self, base_url: str) -> None:
        super().__init__(convert_charrefs=True)
        self.base_url = base_url
        self.parts: list[str] = []
        self.links: list[tuple[str, int]] = []  # (href, index of the link text's first part)
        self.pre = 0
        self.lists: list[int] = []  # per open list: the next number, or 0 for bullets

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("ul", "ol"):
            start = dict(attrs).get("start") or "1"
            self.lists.append((int(start) if start.isdigit() else 1) if tag == "ol" else 0)
        if tag in _BLOCKS:
            self.parts.append("\n\n")
            self.pre += tag == "pre"
        elif tag == "li":
            number = self.lists[-1] if self.lists else 0
            if number:
                self.lists[-1] += 1
            self.parts.append(f"\n{number}. " if number else "\n- ")
        elif tag in ("br", "dt", "dd"):
            self.parts.append("\n")
        elif tag == "a":
            self.links.append((dict(attrs).get("href") or "", len(self.parts)))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("ul", "ol") and self.lists:
            self.lists.pop()
        if tag in _BLOCKS:
            self.parts.append("\n\n")
            self.pre -= tag == "pre"
        elif tag == "a" and self.links:
            href, start = self.links.pop()
            text = "".join(self.parts[start:]).strip()
            if href.startswith("/"):
                href = self.base_url.rstrip("/") + href
            if href and not href.startswith("#") and href not in (text, f"mailto:{text}"):
                self.parts.append(f" ({href})")

    def handle_data(self, data: str) -> None:
        if not self.pre and not data.strip() and "\n" in data:
            return  # the markup's own line breaks between tags
        # line breaks as typed stay (a calendar shows them); runs of spaces become one
        self.parts.append(data if self.pre else re.sub(r"[ \t\r\f\v]+", " ", data))


_LIST_ITEM = re.compile(r" {0,3}(?:[-*+]|\d{1,9}[.)])[ \t]+\S")


def separate_lists(source: str) -> str:
    """A blank line before a list that starts right under a line of text.

    People type "Programma:" with the items on the next lines; Markdown wants a blank line
    first and would otherwise run the items into the paragraph. Code fences are left alone."""
    out: list[str] = []
    previous = ""
    for kind, line, _match in _fenced(source):
        if (
            kind == "text"
            and _LIST_ITEM.match(line)
            and previous.strip()
            and not _LIST_ITEM.match(previous)
            and not previous[:1].isspace()
        ):
            out.append("")
        out.append(line)
        previous = line
    return "\n".join(out)


def plain_text(source: str, *, base_url: str = "") -> str:
    """Markdown as plain text for places that show no HTML (a calendar's DESCRIPTION): no
    ``**``, paragraphs and typed line breaks kept, list items as "- " or "1. ", a link as
    "tekst (adres)" with site paths made absolute."""
    parser = _PlainText(base_url)
    parser.feed(clean_html(render_markdown(source)))
    parser.close()
    text = re.sub(r" *\n *", "\n", "".join(parser.parts))
    return re.sub(r"\n{3,}", "\n\n", text).strip()
