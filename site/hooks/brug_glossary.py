"""MkDocs hook: link each glossary term to the glossary where it first appears on a page.

The terms are the ``## `` headings of content/woordenlijst.md (PI, DJI, VOG, CJIB, 3RO, ZVH,
D&R-plan, casemanager, ...), each with the anchor MkDocs gives that heading. On every other page,
the first time a term occurs in running text it becomes a link to its entry, with the first
sentence of the explanation as a tooltip. Headings, code and existing links are left alone; an
existing link to the entry counts as the first appearance.

Abbreviations (a capital after the first letter, or a digit: PI, 3RO, D&R-plan) match with their
exact case; ordinary words (casemanager, recidive) in any case. A plural or possessive ending
(PI's, casemanagers) is part of the link.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from markdown.extensions.toc import slugify
from mkdocs.utils import get_relative_url

GLOSSARY = "woordenlijst.md"
_HEADING = re.compile(r"^## +(.+?) *$", re.M)
_MD_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_EMPHASIS = re.compile(r"[*_`]")
_SENTENCE = re.compile(r"^(.+?[.!?])(?:\s|$)", re.S)
_TOKEN = re.compile(r"(<!--.*?-->|<[^>]*>)", re.S)
_TAG = re.compile(r"<(/?)([a-zA-Z0-9]+)")
_HREF = re.compile(r"""\bhref=(["'])(.*?)\1""")
# Text inside these elements is never linked (a link in a link, or in a heading, is wrong).
SKIP = frozenset({
    "a", "h1", "h2", "h3", "h4", "h5", "h6", "code", "pre", "script", "style", "abbr", "button",
    "label", "summary", "title",
})
SUFFIX = r"(?:'s|’s|s|en)?"


@dataclass(frozen=True)
class Term:
    name: str
    anchor: str
    explanation: str

    @property
    def exact_case(self) -> bool:
        return self.name != self.name.capitalize() or any(ch.isdigit() for ch in self.name)

    def patterns(self) -> list[str]:
        """Regular expressions for the term as it appears in HTML, one per possible first
        character, each starting with that character as a literal.

        A literal first character in every alternative lets Python's regex engine skip to the
        positions where a term can start; a leading lookbehind would make it try every position
        of the page (40 times slower). So the "no word character before" test comes right after
        the first character, as a two-character lookbehind.
        """
        words = [html.escape(w, quote=False) for w in self.name.split()]
        rest = r"\s+".join([re.escape(words[0][1:]), *map(re.escape, words[1:])])
        tail = f"{rest}{SUFFIX}"
        first = words[0][0]
        firsts = [first]
        if not self.exact_case:
            tail = f"(?i:{tail})"
            cases = {first.upper(), first.lower()}
            if all(len(c) == 1 for c in cases):
                firsts = sorted(cases)
            else:
                firsts = [f"(?i:{re.escape(first)})"]
        return [
            f"{re.escape(c) if len(c) == 1 else c}(?<![\\w&-].){tail}(?![\\w-])" for c in firsts
        ]


def read_terms(markdown: str) -> list[Term]:
    """The glossary entries: heading, anchor (as the toc extension makes it), first sentence."""
    terms = []
    headings = list(_HEADING.finditer(markdown))
    for i, match in enumerate(headings):
        end = headings[i + 1].start() if i + 1 < len(headings) else len(markdown)
        text = _EMPHASIS.sub("", _MD_LINK.sub(r"\1", markdown[match.end():end])).strip()
        text = " ".join(text.split())
        first = _SENTENCE.match(text)
        name = match.group(1).strip()
        explanation = first.group(1) if first else text
        terms.append(Term(name=name, anchor=slugify(name, "-"), explanation=explanation))
    return terms


class Linker:
    """Links first appearances of the terms in an HTML fragment.

    Built once per build: one alternation of all terms, longest first (so "Re-integratieverlof"
    wins over "Re-integratie"), each alternative ending in an empty group that tells which term
    matched. A page where no term occurs costs one regex search; only a page with a match is
    split into tags and text.
    """

    def __init__(self, terms: list[Term]) -> None:
        self.terms = terms
        self._by_anchor = {term.anchor: i for i, term in enumerate(terms)}
        alternatives: list[str] = []
        self._term_of_group: dict[int, int] = {}
        for i in sorted(range(len(terms)), key=lambda i: -len(terms[i].name)):
            for pattern in terms[i].patterns():
                alternatives.append(f"{pattern}()")
                self._term_of_group[len(alternatives)] = i
        self.regex = re.compile("|".join(alternatives)) if terms else None

    def link(self, fragment: str, glossary_url: str) -> str:
        """``fragment`` with each term's first appearance linked to ``glossary_url#anchor``."""
        if self.regex is None or self.regex.search(fragment) is None:
            return fragment
        done: set[int] = set()
        skip_depth = 0
        out = []
        for token in _TOKEN.split(fragment):
            if not token:
                continue
            if token.startswith("<"):
                tag = _TAG.match(token)
                if tag and tag.group(2).lower() in SKIP and not token.endswith("/>"):
                    closing = tag.group(1) == "/"
                    skip_depth = max(0, skip_depth + (-1 if closing else 1))
                    if not closing and tag.group(2).lower() == "a":
                        index = self._by_anchor.get(_glossary_anchor(token) or "")
                        if index is not None:
                            done.add(index)
                out.append(token)
            elif skip_depth or len(done) == len(self.terms):
                out.append(token)
            else:
                out.append(self._link_text(token, glossary_url, done))
        return "".join(out)

    def _link_text(self, text: str, glossary_url: str, done: set[int]) -> str:
        assert self.regex is not None

        def replace(match: re.Match[str]) -> str:
            index = self._term_of_group[match.lastindex or 0]
            if index in done:
                return match.group(0)
            done.add(index)
            term = self.terms[index]
            title = html.escape(term.explanation, quote=True)
            href = f"{glossary_url}#{term.anchor}"
            return f'<a class="brug-term" href="{href}" title="{title}">{match.group(0)}</a>'

        return self.regex.sub(replace, text)


def _glossary_anchor(tag: str) -> str | None:
    """The entry an existing ``<a href=".../woordenlijst/#pi">`` points to, if any."""
    href = _HREF.search(tag)
    if not href or "#" not in href.group(2):
        return None
    page, anchor = href.group(2).split("#", 1)
    return anchor if page.rstrip("/").endswith("woordenlijst") else None


# ---------------------------------------------------------------------------------------------
# MkDocs events

_linker: Linker | None = None


def on_config(config: Any) -> Any:
    global _linker
    path = Path(config.docs_dir) / GLOSSARY
    _linker = Linker(read_terms(path.read_text(encoding="utf-8")) if path.exists() else [])
    return config


def on_page_content(html_fragment: str, page: Any, config: Any, files: Any) -> str:
    if _linker is None or page.file.src_uri in (GLOSSARY, "_shell.md"):
        return html_fragment
    glossary_url = get_relative_url(GLOSSARY.removesuffix(".md") + "/", page.url)
    return _linker.link(html_fragment, glossary_url)
