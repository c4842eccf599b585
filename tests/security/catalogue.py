"""The catalogue of hostile inputs: every public form, query string, header and token route.

Each entry says where it goes and what a correct answer is. The test (test_hostile_inputs.py)
adds the rules that hold for every entry: never a 500, never a stack trace, never the payload
echoed unescaped, and nothing stored when the answer was a refusal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

XSS = ['<script>alert(1)</script>', '"><img src=x onerror=alert(1)>', "javascript:alert(1)//",
       "<svg/onload=alert(1)>"]
FORMULAS = ["=HYPERLINK(\"http://evil.example\",\"klik\")", "+cmd|' /C calc'!A0",
            "-2+3+cmd|' /C calc'!A0", "@SUM(1+1)*cmd|' /C calc'!A0"]
OK_FORM = (200, 303, 302, 400, 413, 422, 429)


@dataclass(frozen=True)
class Case:
    id: str
    method: str
    path: str
    # which valid form to start from: signup, submission, registration, link, private
    form: str | None = None
    fields: dict = field(default_factory=dict)
    raw_body: bytes | None = None
    headers: dict = field(default_factory=dict)
    statuses: tuple[int, ...] = OK_FORM
    must_not_echo: tuple[str, ...] = ()
    csrf: bool = False  # run with CSRF protection on


SIGNUP_FIELDS = ["name", "motivation", "phone", "postcode", "email"]
SUBMISSION_FIELDS = ["title", "summary", "organisatie"]
REGISTRATION_FIELDS = ["name", "organisation"]


def _xss() -> list[Case]:
    cases = []
    for form, path, names in (("signup", "/aanmelden/cosa", SIGNUP_FIELDS),
                              ("submission", "/inzenden/praktijk", SUBMISSION_FIELDS),
                              ("registration", "/agenda/{meeting}/aanmelden", REGISTRATION_FIELDS)):
        for name in names:
            for n, payload in enumerate(XSS):
                cases.append(Case(f"xss-{form}-{name}-{n}", "POST", path, form, {name: payload},
                                  must_not_echo=(payload,) if "<" in payload else ()))
    return cases


def _formulas() -> list[Case]:
    cases = []
    for n, payload in enumerate(FORMULAS):
        cases.append(Case(f"csv-signup-name-{n}", "POST", "/aanmelden/cosa", "signup",
                          {"name": payload}))
        cases.append(Case(f"csv-registration-org-{n}", "POST", "/agenda/{meeting}/aanmelden",
                          "registration", {"organisation": payload}))
    return cases


HEADER_INJECTION = "iemand@example.nl\r\nBcc: slachtoffer@example.nl"
SUBJECT_INJECTION = "Jan\r\nBcc: slachtoffer@example.nl"

OTHER: list[Case] = [
    # e-mail header injection: refused as invalid, or stored without the line break
    Case("hdr-signup-email", "POST", "/aanmelden/cosa", "signup", {"email": HEADER_INJECTION},
         statuses=(422,)),
    Case("hdr-registration-email", "POST", "/agenda/{meeting}/aanmelden", "registration",
         {"email": HEADER_INJECTION}, statuses=(422,)),
    Case("hdr-private-email", "POST", "/agenda/prive/", "private", {"email": HEADER_INJECTION},
         statuses=(422,)),
    Case("hdr-link-email", "POST", "/mijn/link-aanvragen", "link", {"email": HEADER_INJECTION},
         statuses=(422,)),
    Case("hdr-submission-email", "POST", "/inzenden/praktijk", "submission",
         {"contact_email": HEADER_INJECTION}, statuses=(422,)),
    Case("hdr-signup-name", "POST", "/aanmelden/cosa", "signup", {"name": SUBJECT_INJECTION}),
    Case("hdr-registration-name", "POST", "/agenda/{meeting}/aanmelden", "registration",
         {"name": SUBJECT_INJECTION}),
    # oversized bodies and fields
    Case("big-signup-name", "POST", "/aanmelden/cosa", "signup", {"name": "A" * 10_000},
         statuses=(413, 422)),
    Case("big-signup-motivation", "POST", "/aanmelden/cosa", "signup",
         {"motivation": "woord " * 20_000}, statuses=(413, 422)),
    Case("big-body", "POST", "/aanmelden/cosa", raw_body=b"name=" + b"x" * 400_000,
         statuses=(413,)),
    Case("big-submission-body", "POST", "/inzenden/praktijk", "submission", {"body": "x" * 300_000},
         statuses=(413, 422)),
    Case("big-registration-org", "POST", "/agenda/{meeting}/aanmelden", "registration",
         {"organisation": "O" * 5000}, statuses=(413, 422)),
    # invalid UTF-8 and NUL bytes
    Case("utf8-raw-signup", "POST", "/aanmelden/cosa",
         raw_body=b"name=%FF%FE%FD&email=a%C0%AF@example.nl", statuses=(400, 422)),
    Case("utf8-raw-registration", "POST", "/agenda/{meeting}/aanmelden",
         raw_body=b"name=%ED%A0%80&email=x", statuses=(400, 422)),
    Case("nul-signup-name", "POST", "/aanmelden/cosa", "signup", {"name": "Jan\x00Jansen"}),
    Case("nul-signup-motivation", "POST", "/aanmelden/cosa", "signup", {"motivation": "a\x00b"}),
    Case("nul-submission-title", "POST", "/inzenden/praktijk", "submission",
         {"title": "Titel\x00met nul"}),
    Case("nul-query", "GET", "/agenda/?regio=%00", statuses=(200, 400, 404)),
    Case("utf8-path", "GET", "/agenda/regio/%FF%FE.ics", statuses=(400, 404)),
    # Unicode confusables and control characters
    Case("confusable-email", "POST", "/aanmelden/cosa", "signup",
         {"email": "jan@exаmple.nl"}),  # Cyrillic a
    Case("rtl-override-name", "POST", "/aanmelden/cosa", "signup", {"name": "Jan \u202egnp.exe"}),
    Case("zero-width-name", "POST", "/agenda/{meeting}/aanmelden", "registration",
         {"name": "Ja\u200bn"}),
    Case("fullwidth-script", "POST", "/aanmelden/cosa", "signup",
         {"motivation": "＜script＞alert(1)＜/script＞"}),
    # path traversal in static and feed URLs
    Case("trav-static", "GET", "/..%2f..%2fetc%2fpasswd", statuses=(400, 404)),
    Case("trav-static-2", "GET", "/assets/../../pyproject.toml", statuses=(400, 404)),
    Case("trav-feed-private", "GET", "/agenda/prive/..%2f..%2fetc%2fpasswd.ics",
         statuses=(400, 404, 410)),
    Case("trav-feed-region", "GET", "/agenda/regio/..%2f..%2fpyproject.ics", statuses=(400, 404)),
    Case("trav-mijn", "GET", "/mijn/..%2f..%2fetc%2fpasswd", statuses=(400, 404, 410)),
    Case("trav-aanmelden", "GET", "/aanmelden/..%2f..%2fetc", statuses=(400, 404)),
    Case("trav-shell", "GET", "/_shell/index.html", statuses=(404,)),
    # open redirects in next=
    *[Case(f"next-{n}", "GET", "/beheer/?next=" + target, statuses=(302,))
      for n, target in enumerate(["//evil.example", "https://evil.example", "/%5Cevil.example",
                                  "javascript:alert(1)"])],
    *[Case(f"login-next-{n}", "POST", "/beheer/inloggen?next=" + target,
           fields={"email": "x@example.nl", "password": "p"}, statuses=(422, 302))
      for n, target in enumerate(["//evil.example", "https://evil.example/beheer",
                                  "/beheer%0d%0aLocation:%20//evil"])],
    # CSRF missing, forged, reused from another session (CSRF on)
    Case("csrf-missing-signup", "POST", "/aanmelden/cosa", "signup", {"csrf_token": ""},
         statuses=(400, 422), csrf=True),
    Case("csrf-forged-signup", "POST", "/aanmelden/cosa", "signup",
         {"csrf_token": "IjEyMyI.forged.token"}, statuses=(400, 422), csrf=True),
    Case("csrf-missing-login", "POST", "/beheer/inloggen",
         fields={"email": "x@example.nl", "password": "een-lang-wachtwoord"},
         statuses=(400, 422), csrf=True),
    Case("csrf-missing-registration", "POST", "/agenda/{meeting}/aanmelden", "registration",
         {"csrf_token": ""}, statuses=(400, 422), csrf=True),
    Case("csrf-missing-private", "POST", "/agenda/prive/", "private", {"csrf_token": ""},
         statuses=(400, 422), csrf=True),
    # guessed magic-link and feed tokens
    *[Case(f"token-{n}", method, path, statuses=(404, 410))
      for n, (method, path) in enumerate([
          ("GET", "/mijn/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
          ("GET", "/aanmelden/bevestigen/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
          ("POST", "/aanmelden/bevestigen/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
          ("GET", "/agenda/aanmelding/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
          ("POST", "/agenda/aanmelding/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
          ("GET", "/agenda/afmelden/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
          ("GET", "/agenda/prive/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.ics"),
          ("GET", "/agenda/prive/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA/"),
          ("GET", "/mijn/" + "A" * 600),
          ("GET", "/agenda/prive/" + "B" * 600 + ".ics"),
          ("GET", "/inzenden/status/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
          ("POST", "/mijn/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA/wissen"),
      ])],
    # HTTP method confusion
    Case("method-put-signup", "PUT", "/aanmelden/cosa", statuses=(404, 405)),
    Case("method-delete-signup", "DELETE", "/aanmelden/cosa", statuses=(404, 405)),
    Case("method-patch-beheer", "PATCH", "/beheer/vrijwilligers/", statuses=(404, 405)),
    Case("method-post-health", "POST", "/health", statuses=(404, 405)),
    Case("method-post-feed", "POST", "/agenda.ics", statuses=(404, 405)),
    Case("method-trace", "TRACE", "/", statuses=(404, 405)),
    Case("method-override-header", "POST", "/beheer/vrijwilligers/",
         headers={"X-HTTP-Method-Override": "DELETE"}, statuses=(302, 404, 405)),
    # hostile query strings and headers
    Case("query-agenda-xss", "GET", "/agenda/?regio=%3Cscript%3Ealert(1)%3C/script%3E",
         statuses=(200, 400, 404), must_not_echo=("<script>alert(1)</script>",)),
    Case("query-agenda-long", "GET", "/agenda/?thema=" + "x" * 5000, statuses=(200, 400, 404, 414)),
    Case("query-feed-filter", "GET", "/agenda.ics?regio=%27%20OR%201=1--",
         statuses=(200, 400, 404)),
    Case("host-header", "GET", "/aanmelden/cosa", headers={"Host": "evil.example"},
         statuses=(200, 400, 404), must_not_echo=("evil.example",)),
    Case("xff-garbage", "POST", "/aanmelden/cosa", "signup",
         headers={"X-Forwarded-For": "<script>, 999.1.1.1"}),
    Case("accept-json-404", "GET", "/bestaat-niet", headers={"Accept": "application/json"},
         statuses=(404,)),
    Case("content-type-json", "POST", "/aanmelden/cosa", raw_body=b'{"name": "x"}',
         headers={"Content-Type": "application/json"}, statuses=(400, 415, 422)),
]


CATALOGUE: list[Case] = [*_xss(), *_formulas(), *OTHER]


def token_link_paths(app: Any, raw: str) -> list[str]:
    """One path for every route whose URL holds a token (a link that works as a key)."""
    paths = []
    for rule in app.url_map.iter_rules():
        if "token" not in rule.arguments:
            continue
        values = {name: "json" if name == "fmt" else "1" for name in rule.arguments}
        _domain, path = rule.build({**values, "token": raw})
        paths.append(path)
    return sorted(paths)
