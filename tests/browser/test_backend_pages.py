"""Every backend page in Chromium: WCAG 2.1 AA with axe-core, also the error state of each form,
errors announced (an error summary with role=alert whose links lead to the fields), a keyboard-only
walk of the sign-up and meeting registration forms with a visible focus, and cookies only where a
form or login needs the session.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest

from .conftest import ADMIN, COORDINATOR, PHONE, Live, assert_accessible, login

pytestmark = pytest.mark.browser

# Public pages without a form, and forms a visitor can open without a link from a mail.
PUBLIC_PAGES = [
    "/aanmelden/cosa/bedankt",
    "/aanmelden/cosa/bevestigd",
    "/aanmelden/bevestigen/een-ongeldige-link",
    "/aanmelden/bestaat-niet",
    "/mijn/link-aangevraagd",
    "/mijn/gewist",
    "/mijn/een-ongeldige-link",
    "/agenda/",
    "/agenda/prive/verstuurd",
    "/inzenden/",
    "/inzenden/status/een-ongeldige-link",
    "/agenda/afmelden/een-ongeldige-link",
]
PUBLIC_FORMS = [
    "/aanmelden/cosa",
    "/aanmelden/bezoekvrijwilliger",
    "/mijn/link-aanvragen",
    "/agenda/prive/",
    "/inzenden/praktijk",
    "/inzenden/werkbezoek",
    "/beheer/inloggen",
]


def first_meeting(page: Any) -> str:
    page.goto("/agenda/")
    href = page.locator("ul.brug-agenda a").first.get_attribute("href")
    assert href and re.match(r"/agenda/\d+", href), href
    return href


def submit_empty(page: Any) -> None:
    """Submit the page's main form untouched (the honeypot and CSRF fields are the form's own)."""
    # expect_navigation, not wait_for_load_state: the old page is "loaded" until the new one
    # starts, so axe could otherwise run on a page that is being replaced.
    with page.expect_navigation():
        page.locator(
            "main form.brug-form button[type=submit], main form[method=post] button[type=submit]"
        ).last.click()


def assert_errors_announced(page: Any) -> None:
    """An error summary with role=alert, focused or first in the form, linking to real fields."""
    summary = page.locator("[role=alert]").first
    assert summary.is_visible(), page.url
    links = summary.locator("a[href^='#']")
    assert links.count() >= 1
    for i in range(links.count()):
        target = links.nth(i).get_attribute("href")[1:]
        field = page.locator(f"[id='{target}']")
        assert field.count() == 1, f"{page.url}: error link #{target} leads nowhere"
        assert field.get_attribute("aria-invalid") == "true" or field.evaluate(
            "el => el.tagName === 'FIELDSET' || !!el.closest('fieldset')"
        ), f"{page.url}: #{target} is not marked aria-invalid"
    # Following a link from the summary puts the cursor in the field.
    first = links.first.get_attribute("href")[1:]
    links.first.click()
    focused = page.evaluate("document.activeElement && document.activeElement.id")
    assert focused == first or page.locator(f"[id='{first}']").evaluate(
        "el => el.contains(document.activeElement)"
    ), f"{page.url}: focus is on {focused!r}, not #{first}"


@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_public_backend_page_is_accessible(page: Any, live: Live, path: str) -> None:
    page.goto(path)
    assert page.evaluate("document.documentElement.lang") == "nl"
    assert page.title().strip()
    assert_accessible(page)


@pytest.mark.parametrize("path", PUBLIC_FORMS)
def test_form_and_its_error_state_are_accessible(page: Any, live: Live, path: str) -> None:
    page.goto(path)
    assert_accessible(page)
    submit_empty(page)
    assert_errors_announced(page)
    assert_accessible(page)


def test_the_accessibility_check_waits_for_materials_fade_after_a_scroll(
    page: Any, live: Live
) -> None:
    """A summary link far down the page scrolls, and Material fades its tabs out: axe run
    during the fade measured a half-transparent link (seen in CI on 2026-12-06). With axe
    already loaded, the check starts at once, inside the fade, unless it waits."""
    page.goto("/inzenden/praktijk")
    submit_empty(page)
    assert_accessible(page)  # loads axe
    page.locator("#fouten a[href^='#']").first.click()
    assert page.evaluate("window.scrollY") > 0
    assert_accessible(page)


def test_meeting_page_and_registration_form_are_accessible(page: Any, live: Live) -> None:
    meeting = first_meeting(page)
    assert_accessible(page)  # the agenda list with its subscribe block
    page.goto(meeting)
    assert_accessible(page)
    with page.expect_navigation():
        page.get_by_role("link", name="Aanmelden", exact=True).first.click()
    assert_accessible(page)
    submit_empty(page)
    assert_errors_announced(page)
    assert_accessible(page)


@pytest.mark.parametrize("account", [ADMIN, COORDINATOR], ids=["beheerder", "coordinator"])
def test_every_back_office_page_is_accessible(page: Any, live: Live, account: str) -> None:
    """Log in, then visit every page reachable from the back-office navigation, one level deep
    into each list (a volunteer, a meeting, a submission), and the empty new-meeting form."""
    page.goto("/beheer/inloggen")
    assert_accessible(page)
    login(page, account)
    assert_accessible(page)
    sections = [a.get_attribute("href") for a in page.locator("nav.brug-beheer-nav a").all()]
    assert len(sections) >= 3, sections
    visited = set()
    for section in sections:
        page.goto(section)
        assert_accessible(page)
        visited.add(section)
        details = [
            a.get_attribute("href") for a in page.locator("main table a, main .brug-list a").all()
        ]
        for href in [h for h in details if h and h.startswith("/beheer/") and h not in visited][:2]:
            page.goto(href)
            assert_accessible(page)
            visited.add(href)
    if account == ADMIN:
        page.goto("/beheer/bijeenkomsten/nieuw")
        assert_accessible(page)
        submit_empty(page)
        assert_errors_announced(page)
        assert_accessible(page)
    assert len(visited) >= 5, visited


# ---------------------------------------------------------------------------------------------
# keyboard only


FOCUS_STYLE = """() => {
    const el = document.activeElement;
    const style = getComputedStyle(el);
    const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0;
    const shadow = style.boxShadow && style.boxShadow !== 'none';
    return {
        id: el.id, tag: el.tagName, type: el.type || '', name: el.name || '',
        text: (el.innerText || '').trim().slice(0, 40),
        visible: outline || shadow, focusVisible: el.matches(':focus-visible'),
        inForm: !!el.closest('main form'),
    };
}"""


def tab_through_form(page: Any) -> list[dict[str, Any]]:
    """Press Tab from the top of the page until focus has left the main form; return each stop."""
    page.locator("body").focus()
    stops: list[dict[str, Any]] = []
    for _ in range(150):
        page.keyboard.press("Tab")
        info = page.evaluate(FOCUS_STYLE)
        if info["inForm"]:
            stops.append(info)
        elif stops:
            break
    return stops


def expected_controls(page: Any) -> list[str]:
    """Every field a person fills in (not hidden, not the honeypot), in document order."""
    return page.evaluate("""() => [...document.querySelectorAll(
            'main form.brug-form :is(input, select, textarea, button)')]
        .filter(el => el.type !== 'hidden' && !el.closest('[aria-hidden=true]') && el.tabIndex >= 0)
        .map(el => el.id || el.name)""")


@pytest.mark.parametrize("form", ["aanmelden", "bijeenkomst"])
def test_keyboard_reaches_every_field_with_visible_focus(page: Any, live: Live, form: str) -> None:
    if form == "aanmelden":
        page.goto("/aanmelden/cosa")
    else:
        page.goto(first_meeting(page))
        with page.expect_navigation():
            page.get_by_role("link", name="Aanmelden", exact=True).first.click()
        page.locator("main form").evaluate("f => f.classList.add('brug-form')")
    stops = tab_through_form(page)
    reached = [s["id"] or s["name"] for s in stops]
    wanted = expected_controls(page)
    # Radio groups are one Tab stop: the group is reached when one of its buttons is.
    radio_groups = {s["name"] for s in stops if s["type"] == "radio"}
    missing = [w for w in wanted if w not in reached
               and page.locator(f"[id='{w}']").evaluate("el => el.type") != "radio"]
    missing += [
        g
        for g in page.evaluate(
            "() => [...new Set([...document.querySelectorAll('main form input[type=radio]')]"
            ".map(r => r.name))]"
        )
        if g not in radio_groups
    ]
    assert not missing, f"Tab never reaches: {missing} (stops: {reached})"
    assert stops[-1]["tag"] == "BUTTON" and stops[-1]["type"] == "submit", stops[-1]
    invisible = [s for s in stops if not (s["visible"] and s["focusVisible"])]
    assert not invisible, f"focus not visible on: {invisible}"
    # Enter on the submit button sends the form; the errors are announced and reachable.
    page.keyboard.press("Shift+Tab")  # back from the first stop after the form
    assert page.evaluate("document.activeElement.type") == "submit"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert_errors_announced(page)


# ---------------------------------------------------------------------------------------------
# cookies


def test_no_cookie_on_the_agenda_and_feeds_a_session_only_after_a_form(
    browser: Any, live: Live
) -> None:
    context = browser.new_context(base_url=live.url)
    page = context.new_page()
    for path in ["/", "/programmas/cosa/", "/agenda/", first_meeting(page), "/inzenden/"]:
        page.goto(path)
    for feed in ["/agenda.ics", "/agenda/regio/gelderland.ics"]:
        response = page.request.get(feed)
        assert response.status == 200 and "BEGIN:VCALENDAR" in response.text()
        assert "set-cookie" not in response.headers, feed
    assert context.cookies() == [], "a page without a form set a cookie"
    page.goto("/aanmelden/cosa")
    cookies = context.cookies()
    assert [c["name"] for c in cookies] == ["session"]
    assert cookies[0]["httpOnly"] and cookies[0]["sameSite"] == "Lax"
    context.close()


# ---------------------------------------------------------------------------------------------
# buttons on a narrow screen

NARROW = {"width": 320, "height": 640}  # WCAG 1.4.10 (reflow): 320 CSS pixels wide
BUTTONS_APART = """() => {
  const boxes = [...document.querySelectorAll('main .md-button, main button:not(.md-top)')]
    .filter(el => el.checkVisibility({contentVisibilityAuto: true, visibilityProperty: true}))
    .map(el => [el.textContent.trim(), el.getBoundingClientRect()]);
  const touching = [];
  for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
    const [a, r] = boxes[i], [b, s] = boxes[j];
    const apart = Math.max(s.left - r.right, r.left - s.right, s.top - r.bottom, r.top - s.bottom);
    if (apart < 6) touching.push(`${a} | ${b}: ${apart.toFixed(1)}px`);
  }
  return touching;
}"""


def self_service_link(live: Live) -> str:
    """A personal link of a demo volunteer, issued as a mail would carry it."""
    from sqlmodel import select

    from forms_backend import clock, db, tokens, volunteers

    with live.app.app_context(), db.transaction() as session:
        volunteer = session.exec(select(volunteers.Volunteer)).first()
        assert volunteer is not None
        raw = tokens.issue(
            session,
            purpose=volunteers.PURPOSE_SELF,
            subject=volunteer.subject,
            now=clock.now(),
            ttl=dt.timedelta(hours=1),
            single_use=False,
        )
    return f"/mijn/{raw}"


def assert_buttons_apart(
    browser: Any, live: Live, paths: list[str], account: str | None = None
) -> None:
    """No two buttons touch on any of these pages at 320 px (after logging in as ``account``)."""
    context = browser.new_context(viewport=NARROW, locale="nl-NL", base_url=live.url)
    page = context.new_page()
    try:
        if account:
            login(page, account)
        for path in paths:
            page.goto(path)
            assert page.evaluate(BUTTONS_APART) == [], path
    finally:
        context.close()


def test_buttons_side_by_side_stay_apart_on_a_narrow_screen(browser: Any, live: Live) -> None:
    """Two buttons that wrap onto two lines on a phone must not touch (seen on the erase page:
    "Ja, verwijder al mijn gegevens" sat right on top of "Nee, terug")."""
    mine = self_service_link(live)
    pages = [f"{mine}/wissen", f"{mine}/aanpassen", "/inzenden/praktijk", mine, "/programmas/cosa/"]
    assert_buttons_apart(browser, live, pages)


def test_a_button_link_that_wraps_centres_its_text_like_a_button(browser: Any, live: Live) -> None:
    """A link styled as a button starts its second line at the left, a <button> centres both
    (seen on 2026-12-08 on the personal page at 320 px: "Mijn gegevens verwijderen" under "Ik
    stop met mijn aanmelding")."""
    context = browser.new_context(viewport=NARROW, locale="nl-NL", base_url=live.url)
    page = context.new_page()
    try:
        page.goto(self_service_link(live))
        buttons = page.locator("main .md-button")
        wrapped = buttons.evaluate_all("""els => els.map(el => {
          const style = getComputedStyle(el);
          const padding = parseFloat(style.paddingTop) + parseFloat(style.paddingBottom);
          const lines = (el.clientHeight - padding) / parseFloat(style.lineHeight);
          return [el.textContent.trim(), lines > 1.5, style.textAlign];
        })""")
        assert [t for t, two_lines, _ in wrapped if two_lines], f"none wraps at 320 px: {wrapped}"
        assert [(t, align) for t, _, align in wrapped if align != "center"] == []
    finally:
        context.close()


def test_workspace_buttons_stay_apart_on_a_narrow_screen(browser: Any, live: Live) -> None:
    """The same on the pages a coordinator opens on a phone (seen on the meetings list: "Nieuwe
    bijeenkomst" and "Privé-agenda's van partners" touched when they wrapped)."""
    pages = ["/beheer/bijeenkomsten/", "/beheer/bijeenkomsten/?voorbij=1", "/beheer/"]
    assert_buttons_apart(browser, live, pages, account=ADMIN)


# Options of a select whose text does not fit beside its arrow once chosen: a phone cuts them
# off. Chromium draws the arrow inside the padding box, about 20 px wide; 24 px leaves a margin.
SELECT_TEXT_CUT = """() => {
  const ctx = document.createElement('canvas').getContext('2d');
  return [...document.querySelectorAll('main select')].filter(s => s.checkVisibility())
    .flatMap(s => {
      const style = getComputedStyle(s);
      // computed `font` can be empty (a shorthand it cannot express): build it from its parts
      ctx.font = `${style.fontStyle} ${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
      const padding = parseFloat(style.paddingLeft) + parseFloat(style.paddingRight);
      const room = s.clientWidth - padding - 24;
      // an option marked data-name is a person's name: as long as they made it
      return [...s.options].filter(o => !('name' in o.dataset))
        .filter(o => ctx.measureText(o.text).width > room)
        .map(o => `${s.name}: ${o.text}`);
    });
}"""


def test_every_option_of_a_select_fits_when_chosen_on_a_narrow_screen(
    browser: Any, live: Live
) -> None:
    """A closed select shows the option chosen (at first its first one); on a phone it must be
    read in full (seen on 2026-12-08: the step select on a volunteer's page read "Geen nieuwe
    stap, alleen een" at 320 px, and "Via een organisatie (bijvoorbeeld reclassering" lost its
    end once chosen)."""
    context = browser.new_context(viewport=NARROW, locale="nl-NL", base_url=live.url)
    page = context.new_page()
    try:
        login(page, ADMIN)
        page.goto("/beheer/vrijwilligers/")
        detail = page.locator("main td a[href^='/beheer/vrijwilligers/']").first
        detail = detail.get_attribute("href")
        cut = {}
        workspace = [detail, "/beheer/vrijwilligers/", "/beheer/bijeenkomsten/nieuw"]
        workspace.append("/beheer/logboek/")
        for path in [*PUBLIC_FORMS, *workspace]:
            page.goto(path)
            assert page.locator("main").count() == 1, path
            if found := page.evaluate(SELECT_TEXT_CUT):
                cut[path] = found
        assert page.goto(detail) and page.locator("main select").count() >= 1, "no select seen"
        assert cut == {}, cut
    finally:
        context.close()


def test_buttons_and_button_links_in_one_row_line_up(page: Any, live: Live) -> None:
    """A <button> and a link styled as one have the same height, so a row of actions lines up
    (the browser gives a button line-height "normal", shorter than the text's)."""
    login(page, ADMIN)
    page.goto("/beheer/inzendingen")
    page.locator("main a[href^='/beheer/inzendingen/']").filter(has_text="[demo]").first.click()
    page.wait_for_load_state()
    rows = page.evaluate("""() => [...document.querySelectorAll('main .brug-actions')].map(row =>
      [...row.querySelectorAll('.md-button')].filter(e => e.offsetParent !== null).map(e => {
        const r = e.getBoundingClientRect();
        return [e.tagName, Math.round(r.top), Math.round(r.height)];
      }))""")
    mixed = [row for row in rows if len({tag for tag, _, _ in row}) > 1]
    assert mixed, f"no row with a button and a link on {page.url}: {rows}"
    for row in mixed:
        assert len({(top, height) for _, top, height in row}) == 1, row


@pytest.mark.parametrize(
    "path",
    [
        "/beheer/vrijwilligers/",
        "/beheer/logboek/",
        "/beheer/logboek/?van=2026-12-08&tot=2026-12-01",  # an error under the last field
    ],
)
def test_filters_side_by_side_line_up_labels_and_boxes(page: Any, live: Live, path: str) -> None:
    """On a wide screen the filters stand in one row: their labels on one line and their boxes
    as one row of equal height, also when one field has an error under it (seen on 2026-12-08:
    a select was 43 px high beside a 50 px date field, and an error lifted its field above the
    others)."""
    login(page, ADMIN)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(path)
    fields = page.evaluate("""() => [...document.querySelectorAll('form.brug-filters .brug-field')]
      .filter(f => f.offsetParent !== null).map(f => {
        const label = f.querySelector('label').getBoundingClientRect();
        const box = f.querySelector('.brug-input').getBoundingClientRect();
        return [f.querySelector('.brug-input').name, Math.round(label.top), Math.round(box.top),
                Math.round(box.height)];
      })""")
    assert len(fields) >= 4, fields
    assert len({label for _, label, _, _ in fields}) == 1, fields
    assert len({(top, height) for _, _, top, height in fields}) == 1, fields


# ---------------------------------------------------------------------------------------------
# the error summary and its links under the sticky header

# How far the top of an element (or of a field's label or legend) lies below the header: a
# negative number means the header hides it.
BELOW_HEADER = """el => {
  const header = document.querySelector('.md-header').getBoundingClientRect().bottom;
  const field = el.closest('.brug-field') || el;
  const caption = el.tagName === 'FIELDSET' ? el.querySelector('legend')
    : field.querySelector(`label[for="${CSS.escape(el.id)}"]`) || el;
  return caption.getBoundingClientRect().top - header;
}"""


@pytest.mark.parametrize("path", ["/aanmelden/cosa", "/inzenden/praktijk"])
def test_error_summary_and_the_fields_it_leads_to_are_not_under_the_header(
    browser: Any, live: Live, path: str
) -> None:
    """On a phone the refused form scrolls to its error summary, and each link in it scrolls to
    a field: the summary's title and the field's label must show below Material's sticky header
    (seen on 2026-12-06: "Controleer deze 9 velden" sat behind the header). Half a phone's
    height, as with the keyboard open: a summary taller than the window is scrolled to its top."""
    short_phone = {**PHONE, "height": PHONE["height"] // 2}
    context = browser.new_context(viewport=short_phone, locale="nl-NL", base_url=live.url)
    page = context.new_page()
    try:
        page.goto(path)
        submit_empty(page)
        page.wait_for_function("document.activeElement && document.activeElement.id === 'fouten'")
        summary = page.locator("#fouten")
        assert summary.evaluate(BELOW_HEADER) >= 0, "the summary's title is under the header"
        links = summary.locator("a[href^='#']")
        assert links.count() >= 2
        hidden = []
        for i in range(links.count()):
            target = links.nth(i).get_attribute("href")[1:]
            page.evaluate("window.scrollTo(0, 0)")
            summary.locator(f"a[href='#{target}']").click()
            field = page.locator(f"[id='{target}']")
            assert field.evaluate("el => el === document.activeElement"), target
            if field.evaluate(BELOW_HEADER) < 0:
                hidden.append(target)
        assert hidden == [], f"{path}: the label of {hidden} is under the header"
    finally:
        context.close()


# How strongly a colour stands out against the page's background (WCAG contrast ratio).
CONTRAST_WITH_PAGE = """([el, property]) => {
  const rgb = value => value.match(/[\\d.]+/g).slice(0, 3).map(Number);
  const luminance = ([r, g, b]) => [r, g, b].map(v => {
    v /= 255;
    return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  }).reduce((sum, v, i) => sum + v * [0.2126, 0.7152, 0.0722][i], 0);
  const page = luminance(rgb(getComputedStyle(document.body).backgroundColor));
  const mark = luminance(rgb(getComputedStyle(el)[property]));
  return (Math.max(page, mark) + 0.05) / (Math.min(page, mark) + 0.05);
}"""


@pytest.mark.parametrize("scheme", ["default", "slate"])
def test_the_red_marks_of_a_refused_form_stand_out_in_both_colour_schemes(
    page: Any, live: Live, scheme: str
) -> None:
    """The summary's border and the bar beside a refused field are marks a person uses to find
    the errors: at least 3:1 against the page (WCAG 1.4.11). On the dark scheme the red of
    the light one reached 2.5:1 (seen on 2026-12-06)."""
    page.goto("/aanmelden/cosa")
    submit_empty(page)
    page.evaluate(f"document.body.setAttribute('data-md-color-scheme', '{scheme}')")
    marks = {
        "summary border": ("#fouten", "borderTopColor"),
        "bar beside the name field": ("#name", "borderLeftColor"),
        "bar beside the availability group": ("#availability", "borderLeftColor"),
    }
    weak = {}
    for what, (selector, prop) in marks.items():
        ratio = page.locator(selector).evaluate(f"el => ({CONTRAST_WITH_PAGE})([el, '{prop}'])")
        if ratio < 3:
            weak[what] = round(ratio, 2)
    assert weak == {}, f"{scheme}: {weak}"
