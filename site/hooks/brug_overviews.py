"""Brug's generated overview pages: which ones exist, which pages each lists, and their HTML.

The build collects every validated page into a ``SiteIndex`` once (an inverted index from
taxonomy values to pages), so each overview is a lookup and a sort, never a scan of the whole
site. Overview pages get Markdown with a marker; the cards replace the marker in the rendered
HTML, so thousands of cards never pass through the Markdown parser.

No MkDocs import here: the hooks adapt MkDocs events to these functions and tests call them
directly.
"""

from __future__ import annotations

import datetime as dt
import html
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from forms_backend.content import (
    FASEN,
    LEEFGEBIEDEN,
    ORGANISATIETYPES,
    PAGE_TYPES,
    REGIOS,
    PageMeta,
    WieIsWieOrganisatie,
    WieIsWieRegio,
    nl_date,
)

MARKER = "<!-- brug:overzicht -->"

# Where the overview of each page type lives; the template links a page's type chip here.
TYPE_OVERVIEWS: dict[str, str] = {
    "praktijk": "praktijken/",
    "werkbezoek": "werkbezoeken/",
    "programma": "programmas/",
    "nieuws": "nieuws/",
    "verslag": "nieuws/",
    "rapport": "kennisbank/",
    "advies": "kennisbank/",
    "organisatie": "organisaties/",
}

# Taxonomy pages stand for a value; they are not cards on other overviews.
_NOT_LISTED = frozenset({"thema", "regio"})

Key = tuple[str, str]
LinkFn = Callable[[str], str]


@dataclass(frozen=True, slots=True)
class Entry:
    """One page as it appears on overviews."""

    src_uri: str
    url: str
    meta: PageMeta


def keys_for(src_uri: str, meta: PageMeta) -> list[Key]:
    """The index keys a page is filed under."""
    folder = src_uri.rpartition("/")[0]
    keys: list[Key] = [("type", meta.type), ("map", folder)]
    keys += [("leefgebied", value) for value in meta.leefgebieden]
    keys += [("fase", value) for value in meta.fase]
    keys += [("organisatietype", value) for value in meta.organisatietypes]
    if meta.regio:
        keys.append(("regio", meta.regio))
    return keys


@dataclass(frozen=True)
class Term:
    """One value on a taxonomy index page (e.g. 'Wonen' on /leefgebieden/)."""

    key: Key
    label: str
    url: str
    # A second fact after the page count, e.g. how many organisations a region has.
    note: str = ""


@dataclass(frozen=True)
class Overview:
    """A page that lists other pages: either cards of pages, or the values of a taxonomy."""

    src_uri: str
    title: str
    intro: str
    keys: tuple[Key, ...] = ()
    terms: tuple[Term, ...] = ()
    # Heading used when the cards are appended to an existing content page.
    heading: str = "Op deze site"
    # Static Markdown (the who-is-who directory) placed after the cards.
    extra_markdown: str = ""

    def markdown(self) -> str:
        """The full Markdown of a generated overview page, front matter included."""
        summary = self.intro.split("\n", 1)[0][:300]
        front = (
            "---\n"
            "type: pagina\n"
            f"title: {_yaml_str(self.title)}\n"
            f"summary: {_yaml_str(summary)}\n"
            "---\n\n"
        )
        return f"{front}# {self.title}\n\n{self.intro}\n\n{MARKER}\n{self.extra_markdown}"

    def appendix(self) -> str:
        """Markdown appended to an existing content page that is also this overview."""
        return f"\n\n## {self.heading}\n\n{MARKER}\n{self.extra_markdown}"


def _yaml_str(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def overview_definitions(wie_is_wie: list[WieIsWieRegio]) -> list[Overview]:
    """Every overview page of the site, whether or not content/ already has a page there."""
    by_type = {
        "praktijken/index.md": ("Praktijkvoorbeelden", ("praktijk",),
            "Zo werken gemeenten, reclassering, gevangeniswezen en vrijwilligers samen aan een "
            "goede terugkeer. Het nieuwste voorbeeld staat bovenaan.\n\n"
            "Werkt jouw organisatie op een manier die anderen kan helpen? "
            "[Stuur je praktijkvoorbeeld in](/inzenden/praktijk)."),
        "werkbezoeken/index.md": ("Werkbezoeken", ("werkbezoek",),
            "Kom kijken hoe anderen het doen: aanbod van werkbezoeken en verslagen ervan.\n\n"
            "Mogen anderen bij jouw organisatie komen kijken? "
            "[Bied een werkbezoek aan](/inzenden/werkbezoek)."),
        "programmas/index.md": ("Programma's", ("programma",),
            "Programma's waarin vrijwilligers en professionals (ex-)gedetineerden begeleiden. "
            "Bij een aantal kun je je direct aanmelden als vrijwilliger."),
        "nieuws/index.md": ("Nieuws en verslagen", ("nieuws", "verslag"),
            "Nieuws uit het netwerk en verslagen van bijeenkomsten."),
        "kennisbank/index.md": ("Kennisbank", ("rapport", "advies"),
            "Rapporten, onderzoeken en adviezen over re-integratie na detentie."),
        "organisaties/index.md": ("Organisaties", ("organisatie",),
            "Organisaties in het netwerk rond re-integratie."),
    }  # fmt: skip
    overviews = [
        Overview(src_uri, title, intro, keys=tuple(("type", t) for t in types))
        for src_uri, (title, types, intro) in by_type.items()
    ]
    overviews.append(
        Overview("over/index.md", "Over Brug",
            "Brug is een kennissite en netwerk voor iedereen die werkt aan een goede terugkeer "
            "na detentie: een brug van binnen naar buiten.", keys=(("map", "over"),),
            heading="Meer over Brug")
    )  # fmt: skip

    overviews += _taxonomy(
        "leefgebieden", "Leefgebieden", LEEFGEBIEDEN, "leefgebied",
        "De zes leefgebieden die bepalen of terugkeer lukt: wonen, werk en dagbesteding, "
        "een geldig ID-bewijs, schulden, zorg en een sociaal netwerk.",
        lambda label: f"Alles op deze site over het leefgebied {label.lower()}.",
        lambda label: f"Praktijken en kennis over {label.lower()}",
    )  # fmt: skip
    per_region = {region.regio: region.organisaties for region in wie_is_wie}
    overviews += _taxonomy(
        "regios", "Regio's", REGIOS, "regio",
        "Wat er per regio gebeurt, en welke organisaties daar werken aan een goede terugkeer na "
        "detentie.\n\n"
        "Van de meeste regio's weten we nog weinig. Werkt jouw organisatie in zo'n regio? "
        f"{SUBMIT_LINKS}.",
        lambda label: f"Praktijken, werkbezoeken en het wie-is-wie van {_region_name(label)}.",
        lambda label: f"Praktijken en nieuws uit {_region_name(label)}",
        extra=lambda slug: _region_wie_is_wie(slug, per_region.get(slug, [])),
        note=lambda slug: _organisations_counted(len(per_region.get(slug, []))),
    )  # fmt: skip
    per_type: dict[str, list[tuple[str, WieIsWieOrganisatie]]] = defaultdict(list)
    for region in wie_is_wie:
        for org in region.organisaties:
            per_type[org.type].append((region.regio, org))
    overviews += _taxonomy(
        "organisatietypes", "Organisatietypes", ORGANISATIETYPES, "organisatietype",
        "Wie doet wat rond terugkeer: de soorten organisaties in het netwerk.",
        lambda label: f"Pagina's voor en over {label.lower()}.",
        lambda label: "Pagina's op deze site",
        extra=lambda slug: _wie_is_wie_markdown(
            [org for _, org in per_type.get(slug, [])],
            with_region=[region for region, _ in per_type.get(slug, [])],
        ),
    )  # fmt: skip
    overviews += _taxonomy(
        "fase", "Fasen van detentie", FASEN, "fase",
        "Re-integratie begint voor de detentie en loopt door tot ver daarna.",
        lambda label: f"Praktijken en kennis voor de fase {label.lower()}.",
        lambda label: "Pagina's op deze site",
    )  # fmt: skip
    return overviews


def _taxonomy(
    folder: str,
    title: str,
    values: Mapping[str, str],
    key: str,
    intro: str,
    value_intro: Callable[[str], str],
    value_heading: Callable[[str], str],
    extra: Callable[[str], str] | None = None,
    note: Callable[[str], str] | None = None,
) -> list[Overview]:
    terms = tuple(
        Term((key, slug), label, f"{folder}/{slug}/", note(slug) if note else "")
        for slug, label in values.items()
    )
    pages = [Overview(f"{folder}/index.md", title, intro, terms=terms)]
    for slug, label in values.items():
        pages.append(
            Overview(
                f"{folder}/{slug}.md",
                label,
                value_intro(label),
                keys=((key, slug),),
                heading=value_heading(label),
                extra_markdown=extra(slug) if extra else "",
            )
        )
    return pages


SUBMIT_LINKS = (
    "[Stuur een praktijkvoorbeeld in](/inzenden/praktijk) of "
    "[bied een werkbezoek aan](/inzenden/werkbezoek)"
)
# On a region page whose who-is-who is empty: said plainly, never left out.
NOTHING_KNOWN = "We kennen {where} nog geen organisaties."


def _region_name(label: str) -> str:
    """The region as it reads in a sentence: 'Zeeland', but 'heel Nederland' for 'Landelijk'."""
    return "heel Nederland" if label == REGIOS["landelijk"] else label


def _where(slug: str) -> str:
    return "landelijk" if slug == "landelijk" else f"in {REGIOS[slug]}"


def _organisations_counted(count: int) -> str:
    if count == 0:
        return "nog geen organisaties"
    return "1 organisatie" if count == 1 else f"{count} organisaties"


def _region_wie_is_wie(slug: str, organisaties: list[WieIsWieOrganisatie]) -> str:
    """A region page's who-is-who: the organisations the sources name there, or a plain "none
    known yet"; either way with how to add one's own organisation."""
    where = _where(slug)
    add = (
        f"Werkt jouw organisatie {where} aan een goede terugkeer na detentie? {SUBMIT_LINKS}. "
        "Een moderator bekijkt je inzending. Daarna staat die op deze pagina, zodat anderen jullie "
        "kunnen vinden."
    )
    if organisaties:
        # The text before the cards: the glossary hook links a term's first appearance, and
        # running text is where that link belongs (tests/browser/test_glossary.py).
        intro = f"We noemen alleen organisaties die in onze bronnen staan. {add}"
        return _wie_is_wie_markdown(organisaties, with_region=None, intro=intro)
    nothing = html.escape(NOTHING_KNOWN.format(where=where))
    return f'\n## Wie is wie\n\n<p class="brug-leeg">{nothing}</p>\n\n{add}\n'


def _wie_is_wie_markdown(
    organisaties: list[WieIsWieOrganisatie], with_region: list[str] | None, intro: str = ""
) -> str:
    """The who-is-who directory as a Markdown section with an HTML card list (indexed by search)."""
    if not organisaties:
        return ""
    items = []
    for i, org in enumerate(organisaties):
        name = html.escape(org.naam)
        if org.website:
            name = f'<a href="{html.escape(org.website)}" rel="noopener">{name}</a>'
        meta = [html.escape(ORGANISATIETYPES[org.type])]
        if with_region is not None:
            meta.append(html.escape(REGIOS[with_region[i]]))
        if org.plaats:
            meta.append(html.escape(org.plaats))
        parts = [
            f'<p class="brug-card__title">{name}</p>',
            f"<p>{html.escape(org.rol)}</p>",
            f'<p class="brug-card__meta">{" · ".join(meta)}</p>',
        ]
        if org.mailbox:
            mail = html.escape(org.mailbox)
            parts.append(f'<p class="brug-card__meta"><a href="mailto:{mail}">{mail}</a></p>')
        if org.gemeenten:
            gemeenten = html.escape(", ".join(org.gemeenten))
            parts.append(f'<p class="brug-card__meta">Gemeenten: {gemeenten}</p>')
        items.append("<li>" + "".join(parts) + "</li>")
    cards = '<div class="grid cards brug-cards brug-wieiswie">\n<ul>\n' + "\n".join(items)
    intro = f"{intro}\n\n" if intro else ""
    return f"\n## Wie is wie\n\n{intro}{cards}\n</ul>\n</div>\n"


@dataclass
class SiteIndex:
    """Every listed page, filed under its taxonomy keys; filled once per build."""

    _by_key: dict[Key, list[Entry]] = field(default_factory=lambda: defaultdict(list))

    def add(self, src_uri: str, url: str, meta: PageMeta) -> None:
        """File one validated page under its keys (taxonomy pages themselves are not listed)."""
        if meta.type in _NOT_LISTED:
            return
        entry = Entry(src_uri, url, meta)
        for key in keys_for(src_uri, meta):
            self._by_key[key].append(entry)

    def count(self, key: Key) -> int:
        """How many pages are filed under one key."""
        return len(self._by_key.get(key, ()))

    def select(self, keys: Iterable[Key], *, exclude: str = "") -> list[Entry]:
        """Pages under any of the keys, newest first, then by title; pages without date last."""
        seen: dict[str, Entry] = {}
        for key in keys:
            for entry in self._by_key.get(key, ()):
                if entry.src_uri != exclude:
                    seen.setdefault(entry.src_uri, entry)
        entries = sorted(seen.values(), key=lambda e: e.meta.title.casefold())
        return sorted(entries, key=lambda e: e.meta.datum or dt.date.min, reverse=True)


def render_overview(overview: Overview, index: SiteIndex, link: LinkFn) -> str:
    """The HTML that replaces the marker on an overview page; ``link`` makes URLs relative."""
    if overview.terms:
        return render_terms(overview.terms, index, link)
    return render_cards(index.select(overview.keys, exclude=overview.src_uri), link)


def render_cards(entries: list[Entry], link: LinkFn) -> str:
    """Cards with title (link), summary, type, region and date."""
    if not entries:
        return '<p class="brug-leeg">Hier staan nog geen pagina\'s.</p>'
    items = []
    for entry in entries:
        meta = entry.meta
        facts = [PAGE_TYPES[meta.type]]
        if meta.regio:
            facts.append(REGIOS[meta.regio])
        line = " · ".join(html.escape(fact) for fact in facts)
        if meta.datum:
            line += f' · <time datetime="{meta.datum.isoformat()}">{nl_date(meta.datum)}</time>'
        items.append(
            "<li>"
            f'<p class="brug-card__title"><a href="{html.escape(link(entry.url))}">'
            f"{html.escape(meta.title)}</a></p>"
            f"<p>{html.escape(meta.summary)}</p>"
            f'<p class="brug-card__meta">{line}</p>'
            "</li>"
        )
    return '<div class="grid cards brug-cards">\n<ul>\n' + "\n".join(items) + "\n</ul>\n</div>"


def render_terms(terms: Iterable[Term], index: SiteIndex, link: LinkFn) -> str:
    """Cards for the values of a taxonomy, with the number of pages under each."""
    items = []
    for term in terms:
        count = index.count(term.key)
        counted = "1 pagina" if count == 1 else f"{count} pagina's"
        if term.note:
            counted += f" · {html.escape(term.note)}"
        items.append(
            "<li>"
            f'<p class="brug-card__title"><a href="{html.escape(link(term.url))}">'
            f"{html.escape(term.label)}</a></p>"
            f'<p class="brug-card__meta">{counted}</p>'
            "</li>"
        )
    return '<div class="grid cards brug-cards">\n<ul>\n' + "\n".join(items) + "\n</ul>\n</div>"


# The site's own pages in the footer, in this order. Each shows only if the build has the page:
# the link checker also builds tests/site/fixture_docs, whose over/ folder has only a colophon.
FOOTER_PAGES: tuple[tuple[str, str], ...] = (
    ("over/privacy.md", "Privacyverklaring"),
    ("over/toegankelijkheid.md", "Toegankelijkheid"),
    ("over/colofon.md", "Colofon"),
)


def footer_links(urls: Mapping[str, str]) -> list[tuple[str, str]]:
    """(label, url) for the footer pages among ``urls`` (src_uri -> page url) of this build."""
    return [(label, urls[src_uri]) for src_uri, label in FOOTER_PAGES if src_uri in urls]


def template_globals() -> dict[str, Any]:
    """Labels the page templates need for chips, as one Jinja global ``brug``."""
    return {
        "leefgebieden": LEEFGEBIEDEN,
        "regios": REGIOS,
        "fasen": FASEN,
        "organisatietypes": ORGANISATIETYPES,
        "paginatypes": PAGE_TYPES,
        "type_overzichten": TYPE_OVERVIEWS,
    }


@dataclass
class Plan:
    """Which overviews the build generates and which it appends to existing content pages."""

    overviews: dict[str, Overview]
    existing: frozenset[str]

    @classmethod
    def make(cls, definitions: Iterable[Overview], existing: Iterable[str]) -> Plan:
        """Plan the overviews against the src_uris of the pages already in content/."""
        return cls({o.src_uri: o for o in definitions}, frozenset(existing))

    def to_generate(self) -> list[Overview]:
        """Overviews with no content page of their own."""
        return [o for uri, o in self.overviews.items() if uri not in self.existing]

    def appendix_for(self, src_uri: str) -> str:
        """Markdown to append to an existing content page that doubles as an overview."""
        if src_uri in self.existing and src_uri in self.overviews:
            return self.overviews[src_uri].appendix()
        return ""
