"""Generated overview pages and page extras, on the fixture pages (tests/site/fixture_docs)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import brug_overviews as overviews
import brug_shell
import pytest
from brug_links import resolve

from forms_backend.content import (
    FASEN,
    LEEFGEBIEDEN,
    ORGANISATIETYPES,
    REGIOS,
    PageMeta,
    WieIsWieOrganisatie,
    WieIsWieRegio,
)

# ----------------------------------------------------------------------------------------------
# the pure module


def meta(**fields: object) -> PageMeta:
    """A valid praktijk unless the test says otherwise."""
    base: dict[str, object] = {
        "type": "praktijk", "title": "Een praktijk", "summary": "Kort.",
        "datum": dt.date(2020, 10, 27), "leefgebieden": ["wonen"], "regio": "utrecht",
    }  # fmt: skip
    return PageMeta.model_validate(base | fields)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(dt.date(2020, 10, 27), "27 oktober 2020"), ("2024-03-01", "1 maart 2024"), (None, "")],
)
def test_nl_date(value: object, expected: str) -> None:
    assert overviews.nl_date(value) == expected  # type: ignore[arg-type]


def test_index_selects_newest_first_without_duplicates() -> None:
    index = overviews.SiteIndex()
    old = meta(title="Oud", datum=dt.date(2019, 1, 1))
    new = meta(title="Nieuw", datum=dt.date(2023, 1, 1))
    index.add("praktijken/oud.md", "praktijken/oud/", old)
    index.add("praktijken/nieuw.md", "praktijken/nieuw/", new)
    index.add("nieuws/n.md", "nieuws/n/", meta(type="nieuws", leefgebieden=[], regio=None))
    thema = meta(type="thema", slug="wonen", datum=None)
    index.add("leefgebieden/wonen.md", "leefgebieden/wonen/", thema)

    wonen = index.select([("leefgebied", "wonen"), ("regio", "utrecht")])
    assert [e.meta.title for e in wonen] == ["Nieuw", "Oud"]
    assert index.count(("type", "thema")) == 0  # taxonomy pages are not cards


def test_cards_show_title_link_summary_region_and_date() -> None:
    entry = overviews.Entry("praktijken/x.md", "praktijken/x/", meta(title="A & B"))
    html = overviews.render_cards([entry], link=lambda url: "../" + url)
    assert '<a href="../praktijken/x/">A &amp; B</a>' in html
    assert "Utrecht" in html
    assert '<time datetime="2020-10-27">27 oktober 2020</time>' in html
    assert "Kort." in html


def test_every_taxonomy_value_has_an_overview() -> None:
    uris = {o.src_uri for o in overviews.overview_definitions([])}
    for folder, values in (("leefgebieden", LEEFGEBIEDEN), ("regios", REGIOS),
                           ("fase", FASEN), ("organisatietypes", ORGANISATIETYPES)):  # fmt: skip
        assert f"{folder}/index.md" in uris
        assert {f"{folder}/{slug}.md" for slug in values} <= uris
    for folder in ("praktijken", "werkbezoeken", "programmas", "nieuws", "kennisbank"):
        assert f"{folder}/index.md" in uris


def test_plan_appends_to_existing_pages_and_generates_the_rest() -> None:
    plan = overviews.Plan.make(overviews.overview_definitions([]), ["leefgebieden/wonen.md"])
    generated = {o.src_uri for o in plan.to_generate()}
    assert "leefgebieden/wonen.md" not in generated
    assert "leefgebieden/zorg.md" in generated
    assert overviews.MARKER in plan.appendix_for("leefgebieden/wonen.md")
    assert plan.appendix_for("praktijken/x.md") == ""


def test_generated_overview_markdown_validates() -> None:
    from mkdocs.utils.meta import get_data

    from forms_backend.content import validate_front_matter

    for overview in overviews.overview_definitions([]):
        _, front = get_data(overview.markdown())
        assert validate_front_matter(front, overview.src_uri).type == "pagina"


def organisation(**fields: object) -> WieIsWieOrganisatie:
    base: dict[str, object] = {"naam": "ZVH Zeeland", "type": "zorg-en-veiligheidshuis",
                               "rol": "Nazorg."}  # fmt: skip
    return WieIsWieOrganisatie.model_validate(base | fields)


def region_pages(wie_is_wie: list[WieIsWieRegio]) -> dict[str, overviews.Overview]:
    return {
        o.src_uri: o for o in overviews.overview_definitions(wie_is_wie)
        if o.src_uri.startswith("regios/") and o.src_uri != "regios/index.md"
    }  # fmt: skip


def test_every_region_has_a_who_is_who_even_when_nothing_is_known() -> None:
    pages = region_pages([WieIsWieRegio(regio="zeeland", organisaties=[organisation()])])
    assert set(pages) == {f"regios/{slug}.md" for slug in REGIOS}
    for uri, page in pages.items():
        assert "## Wie is wie" in page.extra_markdown, uri
        assert "(/inzenden/praktijk)" in page.extra_markdown, uri
        assert "(/inzenden/werkbezoek)" in page.extra_markdown, uri
    assert "ZVH Zeeland" in pages["regios/zeeland.md"].extra_markdown
    assert "nog geen organisaties" not in pages["regios/zeeland.md"].extra_markdown
    assert (
        "We kennen in Limburg nog geen organisaties." in pages["regios/limburg.md"].extra_markdown
    )
    assert "We kennen landelijk nog geen" in pages["regios/landelijk.md"].extra_markdown


def test_region_index_counts_organisations_and_promises_no_phone_numbers() -> None:
    wie = [WieIsWieRegio(regio="zeeland", organisaties=[organisation(), organisation(naam="B")])]
    index = {o.src_uri: o for o in overviews.overview_definitions(wie)}["regios/index.md"]
    notes = {term.key[1]: term.note for term in index.terms}
    assert notes["zeeland"] == "2 organisaties"
    assert notes["limburg"] == "nog geen organisaties"
    assert "bel" not in index.intro.lower() and "telefoon" not in index.intro.lower()
    html = overviews.render_terms(index.terms, overviews.SiteIndex(), link=lambda url: url)
    assert "0 pagina's · 2 organisaties" in html


def test_landelijk_reads_as_a_place() -> None:
    page = region_pages([])["regios/landelijk.md"]
    assert "van heel Nederland" in page.intro and "Landelijk" not in page.intro


def test_footer_links_keep_their_order_and_skip_missing_pages() -> None:
    urls = {"over/colofon.md": "over/colofon/", "over/privacy.md": "over/privacy/"}
    assert overviews.footer_links(urls) == [
        ("Privacyverklaring", "over/privacy/"),
        ("Colofon", "over/colofon/"),
    ]
    assert overviews.footer_links({}) == []


def test_shell_urls_become_root_absolute() -> None:
    html = (
        '<link href="../assets/x.css"><a href="..">Home</a><a href="../praktijken/">P</a>'
        "<img src='../assets/logo.svg'><a href=\"#top\">t</a>"
        '{"search": "../assets/search.js"}'
    )
    assert brug_shell.root_absolute(html) == (
        '<link href="/assets/x.css"><a href="/">Home</a><a href="/praktijken/">P</a>'
        "<img src='/assets/logo.svg'><a href=\"#top\">t</a>"
        '{"search": "/assets/search.js"}'
    )


# ----------------------------------------------------------------------------------------------
# the fixture build


def links_on(site: Path, page: str) -> set[str]:
    """Root-absolute paths of the links in a page's article."""
    hrefs = re.findall(r'href="([^"]+)"', article(site, page))
    return {resolve(f"/{page}/", href) for href in hrefs}


def article(site: Path, page: str) -> str:
    html = (site / page / "index.html").read_text(encoding="utf-8")
    match = re.search(r'<article class="md-content__inner md-typeset">(.*?)</article>', html, re.S)
    assert match, page
    return match[1]


@pytest.mark.build
def test_praktijk_appears_on_its_taxonomy_and_type_overviews(fixture_site: Path) -> None:
    link = "/praktijken/huisvesting-utrecht/"
    for page in ("leefgebieden/wonen", "regios/utrecht", "fase/na", "fase/tijdens",
                 "organisatietypes/woningcorporatie", "praktijken"):  # fmt: skip
        assert link in links_on(fixture_site, page), page
        text = article(fixture_site, page)
        assert "27 oktober 2020" in text
        assert "Utrecht" in text
    assert link not in links_on(fixture_site, "leefgebieden/schulden")
    assert link not in links_on(fixture_site, "regios/groningen")


@pytest.mark.build
def test_overviews_list_newest_first(fixture_site: Path) -> None:
    text = article(fixture_site, "praktijken")
    assert text.index("Schuldhulp begint binnen") < text.index("Een kamer klaar bij ontslag")


@pytest.mark.build
def test_existing_thema_and_regio_pages_keep_their_text_and_get_cards(fixture_site: Path) -> None:
    wonen = article(fixture_site, "leefgebieden/wonen")
    assert "Zonder woning geen terugkeer." in wonen
    assert "/werkbezoeken/pi-vught/" in links_on(fixture_site, "leefgebieden/wonen")
    utrecht = article(fixture_site, "regios/utrecht")
    assert "De regio Utrecht." in utrecht
    assert "Wie is wie" in utrecht
    assert "Zorg- en Veiligheidshuis Utrecht" in utrecht
    assert "mailto:nazorg@zvh-utrecht.example.nl" in utrecht


@pytest.mark.build
def test_region_without_organisations_says_so_and_how_to_add_one(fixture_site: Path) -> None:
    groningen = article(fixture_site, "regios/groningen")
    assert "We kennen in Groningen nog geen organisaties." in groningen
    assert {"/inzenden/praktijk", "/inzenden/werkbezoek"} <= links_on(
        fixture_site, "regios/groningen"
    )
    utrecht = article(fixture_site, "regios/utrecht")
    assert "nog geen organisaties" not in utrecht
    assert "/inzenden/werkbezoek" in links_on(fixture_site, "regios/utrecht")


@pytest.mark.build
def test_every_real_region_page_lists_organisations_or_says_none_are_known(
    built_site: Path,
) -> None:
    """QA found 10 of 13 region pages with no who-is-who at all, and /regios/ promising phone
    numbers it does not have."""
    for slug in REGIOS:
        text = article(built_site, f"regios/{slug}")
        assert 'id="wie-is-wie"' in text, slug
        section = text[text.index('id="wie-is-wie"') :]
        directory = section.partition("brug-wieiswie")[2].partition("</ul>")[0]
        cards = directory.count("<li>")
        nothing = "nog geen organisaties" in section
        assert (cards > 0) != nothing, (slug, cards, nothing)
        assert "/inzenden/praktijk" in links_on(built_site, f"regios/{slug}"), slug
    index = article(built_site, "regios")
    assert "bellen" not in index and "telefoon" not in index and "tel:" not in index


@pytest.mark.build
def test_empty_overview_says_so(fixture_site: Path) -> None:
    assert "Hier staan nog geen pagina" in article(fixture_site, "leefgebieden/id-bewijs")


@pytest.mark.build
def test_taxonomy_index_counts_pages(fixture_site: Path) -> None:
    text = article(fixture_site, "leefgebieden")
    assert re.search(r'wonen/">Wonen</a></p><p class="brug-card__meta">2 pagina\'s', text)
    assert "/leefgebieden/wonen/" in links_on(fixture_site, "leefgebieden")


@pytest.mark.build
def test_nieuws_and_kennisbank_collect_their_types(fixture_site: Path) -> None:
    assert "/nieuws/bijeenkomst/" in links_on(fixture_site, "nieuws")
    assert "/kennisbank/rapport/" in links_on(fixture_site, "kennisbank")
    assert "/praktijken/huisvesting-utrecht/" not in links_on(fixture_site, "nieuws")


@pytest.mark.build
def test_programme_with_aanmelden_has_sign_up_button(fixture_site: Path) -> None:
    cosa = article(fixture_site, "programmas/cosa")
    assert 'href="/aanmelden/cosa">Meld je aan</a>' in cosa
    assert "/aanmelden/" not in article(fixture_site, "programmas/samen-starten")


@pytest.mark.build
def test_praktijk_page_has_sources_chips_and_submit_link(fixture_site: Path) -> None:
    text = article(fixture_site, "praktijken/huisvesting-utrecht")
    assert "Bronnen" in text
    assert 'href="https://www.example.nl/verslag"' in text
    assert "1 september 2020" in text
    assert 'href="/inzenden/praktijk">Stuur zelf een praktijk in</a>' in text
    links = links_on(fixture_site, "praktijken/huisvesting-utrecht")
    assert {"/leefgebieden/wonen/", "/regios/utrecht/", "/fase/na/",
            "/organisatietypes/gemeente/", "/praktijken/"} <= links  # fmt: skip


@pytest.mark.build
def test_meta_description_is_the_summary(fixture_site: Path) -> None:
    html = (fixture_site / "praktijken" / "schuldhulp-groningen" / "index.html").read_text()
    summary = "Een schuldhulpverlener spreekt gedetineerden al in de PI."
    assert f'<meta name="description" content="{summary}">' in html


@pytest.mark.build
def test_a_werkbezoek_offer_links_its_mailbox(fixture_site: Path) -> None:
    """The way to sign up for a work visit is one click, as in who-is-who."""
    text = article(fixture_site, "werkbezoeken/pi-vught")
    link = '<a href="mailto:werkbezoek@pi.example.nl">werkbezoek@pi.example.nl</a>'
    assert link in text
