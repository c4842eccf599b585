"""The body sanitiser: whatever goes in, the rendered page has no script, handler or bad link."""

from __future__ import annotations

import pytest

from forms_backend.sanitize import (
    check_markdown,
    clean_html,
    neutralise,
    render_markdown,
    separate_lists,
    structure,
)

ATTACKS = [
    "<script>alert('xss')</script>",
    "<img src=x onerror=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    "<iframe src='https://evil.example'></iframe>",
    "<a href='javascript:alert(1)'>x</a>",
    "<!-- <script>alert(1)</script> -->",
    "<style>body{display:none}</style>",
    "Tekst {: onclick=\"alert(1)\" }",
    "## Kop {#id onmouseover=alert(1)}",
    "*nadruk*{: style=\"position:fixed\" }",
    "```{.python onclick=alert(1)}\ncode\n```",
    "<div markdown=1 onclick=alert(1)>*x*</div>",
    "<details open ontoggle=alert(1)><summary>x</summary></details>",
    "`code` <b onclick=alert(1)>vet</b> `meer`",
    "- lijst\n\n    <script>alert(1)</script>",
    "> citaat <script>alert(1)</script>",
    "| a |\n|---|\n| <img src=x onerror=alert(1)> |",
]


@pytest.mark.parametrize("attack", ATTACKS)
def test_rendered_output_has_nothing_nh3_would_remove(attack):
    result = check_markdown(attack)
    raw = render_markdown(result.source)
    assert structure(raw).items == structure(clean_html(raw)).items
    for item in structure(raw).items:
        if item[0] == "start":
            assert item[1] not in {"script", "iframe", "svg", "style"}
            assert not any(
                name.startswith("on") or (name == "style" and item[1] not in ("td", "th"))
                for name, _ in item[2]
            )
    assert "alert(1)" not in "".join(v for t, v in structure(raw).links)


@pytest.mark.parametrize(
    "link",
    [
        "[x](javascript:alert(1))",
        "[x](JaVaScRiPt:alert(1))",
        "[x](&#106;avascript:alert(1))",
        "[x](data:text/html;base64,PHNjcmlwdD4=)",
        "[x](vbscript:msgbox)",
        "[x][ref]\n\n[ref]: javascript:alert(1)",
        "![x](data:image/png;base64,AAAA)",
        "![x](https://tracker.example/pixel.gif)",
        "[x](../../etc/passwd)",
        "[x](//evil.example/)",
    ],
)
def test_bad_links_are_reported_in_dutch(link):
    result = check_markdown(link)
    assert result.problems, link
    assert all(p.startswith(("Link", "Afbeelding")) for p in result.problems)


def test_good_links_pass_and_site_links_are_checked(published_site):
    ok = check_markdown(
        "[a](https://example.nl) [b](mailto:info@example.nl) [c](/praktijken/) [d](#kop) "
        "[e](/inzenden/praktijk)",
        site_dir=published_site,
        backend_prefixes=("/inzenden/",),
    )
    assert ok.problems == []
    missing = check_markdown("[a](/bestaat-niet/)", site_dir=published_site)
    assert missing.problems == [
        "Link '/bestaat-niet/' wijst naar een pagina die niet op de site staat."
    ]


def test_snippets_and_jinja_are_broken_everywhere():
    source = neutralise(
        '--8<-- "secret.txt"\n\n{{ config }} {% raw %}\n\n```\n--8<-- "x"\n{{ y }}\n```'
    )
    assert "--8<--" not in source
    assert "{{" not in source and "{%" not in source


def test_ordinary_markdown_renders_as_the_site_would():
    source = (
        "## Kopje\n\n- een\n- twee\n\n**vet** en `a < b` en R&D\n\n"
        '!!! tip "Tip"\n    Doen.\n\n```python\nif a < b:\n    pass\n```'
    )
    html = check_markdown(source).html
    assert '<h2 id="kopje">' in html and "<li>een</li>" in html and "<strong>vet</strong>" in html
    assert "<code>a &lt; b</code>" in html and "R&amp;D" in html
    assert 'class="admonition tip"' in html
    assert "&lt;" in html and "&amp;lt;" not in html  # code is not double-escaped


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("Programma:\n- a\n- b", "Programma:\n\n- a\n- b"),
        ("Stappen:\n1. a\n2) b", "Stappen:\n\n1. a\n2) b"),
        ("Al goed:\n\n- a\n- b", "Al goed:\n\n- a\n- b"),
        ("- a\n  vervolg\n- b", "- a\n  vervolg\n- b"),  # continuation and next item as typed
        ("Van 2026 - 2027 en\n-5 graden", "Van 2026 - 2027 en\n-5 graden"),  # no list item
        ("```\ntekst\n- geen lijst\n```", "```\ntekst\n- geen lijst\n```"),  # code stays code
    ],
)
def test_separate_lists_adds_the_blank_line_markdown_needs_and_nothing_else(source, expected):
    assert separate_lists(source) == expected
