"""The one front-matter schema for Brug's content pages.

The MkDocs hooks validate every page in ``content/`` with it, and the backend writes pages for
approved submissions with it, so a page the backend writes is always a page the build accepts.
This module is pure: no Flask, no MkDocs, no I/O beyond what a caller hands in.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

PageType = Literal[
    "pagina",  # home, privacy statement, colophon and other plain pages
    "praktijk",  # a best practice
    "werkbezoek",  # a work-visit offer or report
    "programma",  # a programme such as COSA or Samen Starten
    "nieuws",
    "verslag",  # report of a meeting
    "rapport",  # an inspection or research report
    "advies",  # an advisory opinion (e.g. RSJ)
    "regio",
    "organisatie",
    "thema",  # one of the six leefgebieden
]

LEEFGEBIEDEN: dict[str, str] = {
    "wonen": "Wonen",
    "werk-en-dagbesteding": "Werk en dagbesteding",
    "id-bewijs": "ID-bewijs",
    "schulden": "Schulden",
    "zorg": "Zorg",
    "sociaal-netwerk": "Sociaal netwerk",
}

FASEN: dict[str, str] = {
    "voor": "Voor detentie",
    "tijdens": "Tijdens detentie",
    "na": "Na detentie",
}

REGIOS: dict[str, str] = {
    "landelijk": "Landelijk",
    "groningen": "Groningen",
    "friesland": "Friesland",
    "drenthe": "Drenthe",
    "overijssel": "Overijssel",
    "flevoland": "Flevoland",
    "gelderland": "Gelderland",
    "utrecht": "Utrecht",
    "noord-holland": "Noord-Holland",
    "zuid-holland": "Zuid-Holland",
    "zeeland": "Zeeland",
    "noord-brabant": "Noord-Brabant",
    "limburg": "Limburg",
}

ORGANISATIETYPES: dict[str, str] = {
    "gemeente": "Gemeente",
    "reclassering": "Reclassering",
    "dji": "Gevangeniswezen (DJI / PI)",
    "zorg-en-veiligheidshuis": "Zorg- en Veiligheidshuis",
    "sociaal-werk": "Sociaal werk",
    "vrijwilligersorganisatie": "Vrijwilligersorganisatie",
    "zorgaanbieder": "Zorgaanbieder",
    "woningcorporatie": "Woningcorporatie",
    "rijksoverheid": "Rijksoverheid en adviesraden",
    "kennisinstituut": "Kennis en onderzoek",
}

PAGE_TYPES: dict[str, str] = {
    "pagina": "Pagina",
    "praktijk": "Praktijkvoorbeeld",
    "werkbezoek": "Werkbezoek",
    "programma": "Programma",
    "nieuws": "Nieuws",
    "verslag": "Verslag",
    "rapport": "Rapport",
    "advies": "Advies",
    "regio": "Regio",
    "organisatie": "Organisatie",
    "thema": "Leefgebied",
}

MONTHS = (
    "januari", "februari", "maart", "april", "mei", "juni",
    "juli", "augustus", "september", "oktober", "november", "december",
)  # fmt: skip


def nl_date(value: dt.date | str | None) -> str:
    """A date the Dutch way, e.g. '27 oktober 2020'; strings are parsed as ISO dates. The
    site's templates and the backend's page preview both show dates with it (``nl_datum``)."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = dt.date.fromisoformat(value)
    return f"{value.day} {MONTHS[value.month - 1]} {value.year}"


# Front-matter keys that belong to MkDocs or Material rather than to Brug; allowed untouched.
THEME_KEYS = frozenset({"hide", "icon", "status", "template", "search", "description"})

_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_HTML_SPECIAL = re.compile(r'[<>"]')
_SEARCH_WORD = re.compile(r"^[^\W_]+(?:[ -][^\W_]+)*$")
MAX_SEARCH_WORDS = 12


def _choices(name: str, allowed: Mapping[str, str] | tuple[str, ...]) -> str:
    return f"{name} kent alleen: {', '.join(allowed)}"


class Bron(BaseModel):
    """A source a page is based on; every page written from the seeds names one."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=300)
    publisher: str = Field(min_length=1, max_length=200)
    date: dt.date | None = None
    url: str | None = Field(default=None, max_length=500)

    @field_validator("url")
    @classmethod
    def _http_only(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://[^\s<>\"']+$", value):
            raise ValueError("een bron-url begint met http:// of https:// en bevat geen spaties")
        return value


class Werkbezoek(BaseModel):
    """Extra facts for a werkbezoek page: an offer to visit, or a report of a visit."""

    model_config = ConfigDict(extra="forbid")

    soort: Literal["aanbod", "verslag"]
    plaats: str = Field(min_length=1, max_length=120)
    organisatie: str = Field(min_length=1, max_length=200)
    contact: str | None = Field(default=None, max_length=200, description="role mailbox only")

    @field_validator("contact")
    @classmethod
    def _role_mailbox(cls, value: str | None) -> str | None:
        return checked_mailbox(value, "contact")


class PageMeta(BaseModel):
    """Validated front matter of one content page."""

    model_config = ConfigDict(extra="forbid")

    type: PageType
    title: str = Field(min_length=1, max_length=140)
    summary: str = Field(min_length=1, max_length=320)
    datum: dt.date | None = None
    leefgebieden: list[str] = Field(default_factory=list)
    regio: str | None = None
    fase: list[str] = Field(default_factory=list)
    organisatietypes: list[str] = Field(default_factory=list)
    bronnen: list[Bron] = Field(default_factory=list)
    slug: str | None = Field(
        default=None,
        description="taxonomy value a regio, thema or programma page stands for (e.g. 'wonen')",
    )
    aanmelden: bool = Field(default=False, description="programma: volunteers can sign up")
    werkbezoek: Werkbezoek | None = None
    zoekwoorden: list[str] = Field(
        default_factory=list,
        description="everyday words people search with that the page itself does not use",
    )
    # Theme keys pass through unchanged.
    hide: list[str] | None = None
    icon: str | None = None
    status: str | None = None
    template: str | None = None
    search: dict[str, Any] | None = None
    description: str | None = None

    @field_validator("title", "summary")
    @classmethod
    def _plain_text(cls, value: str) -> str:
        # Material writes title and summary into the page unescaped (MkDocs' Jinja has no
        # autoescape): in <title>, the header and <meta content="...">. Submitted pages too.
        if _HTML_SPECIAL.search(value):
            raise ValueError(
                'gebruik geen < > of " (wel „Nederlandse” of ‘enkele’ aanhalingstekens)'
            )
        return value

    @field_validator("leefgebieden")
    @classmethod
    def _leefgebieden(cls, values: list[str]) -> list[str]:
        return _check_all(values, LEEFGEBIEDEN, "leefgebieden")

    @field_validator("fase")
    @classmethod
    def _fase(cls, values: list[str]) -> list[str]:
        return _check_all(values, FASEN, "fase")

    @field_validator("organisatietypes")
    @classmethod
    def _organisatietypes(cls, values: list[str]) -> list[str]:
        return _check_all(values, ORGANISATIETYPES, "organisatietypes")

    @field_validator("zoekwoorden")
    @classmethod
    def _zoekwoorden(cls, values: list[str]) -> list[str]:
        words = [value.strip().lower() for value in values]
        if len(words) > MAX_SEARCH_WORDS:
            raise ValueError(f"hoogstens {MAX_SEARCH_WORDS} zoekwoorden per pagina")
        for word in words:
            if not 2 <= len(word) <= 40:
                raise ValueError(f"een zoekwoord is 2 tot 40 tekens, niet {word!r}")
            if not _SEARCH_WORD.match(word):
                raise ValueError(f"{word!r}: alleen letters, cijfers, spaties en streepjes")
        duplicates = sorted({word for word in words if words.count(word) > 1})
        if duplicates:
            raise ValueError(f"noemt {', '.join(map(repr, duplicates))} twee keer")
        return words

    @field_validator("regio")
    @classmethod
    def _regio(cls, value: str | None) -> str | None:
        if value is not None and value not in REGIOS:
            raise ValueError(f"'{value}' is geen bekende regio; {_choices('regio', REGIOS)}")
        return value

    @field_validator("slug")
    @classmethod
    def _slug(cls, value: str | None) -> str | None:
        if value is not None and not _SLUG.match(value):
            raise ValueError("slug bestaat uit kleine letters, cijfers en streepjes")
        return value

    @model_validator(mode="after")
    def _per_type(self) -> PageMeta:
        need_date = {"praktijk", "werkbezoek", "nieuws", "verslag", "rapport", "advies"}
        if self.type in need_date and self.datum is None:
            raise ValueError(f"een pagina van type '{self.type}' heeft een datum nodig")
        if self.type in {"praktijk", "werkbezoek"} and not self.leefgebieden:
            raise ValueError(f"een pagina van type '{self.type}' noemt minstens één leefgebied")
        if self.type in {"praktijk", "werkbezoek"} and self.regio is None:
            raise ValueError(f"een pagina van type '{self.type}' noemt een regio")
        if self.type == "werkbezoek" and self.werkbezoek is None:
            raise ValueError(
                "een werkbezoek-pagina heeft een blok 'werkbezoek' (soort, plaats, organisatie)"
            )
        if self.type != "werkbezoek" and self.werkbezoek is not None:
            raise ValueError("het blok 'werkbezoek' hoort alleen bij type 'werkbezoek'")
        if self.type == "thema" and self.slug not in LEEFGEBIEDEN:
            raise ValueError(f"een thema-pagina heeft slug uit: {', '.join(LEEFGEBIEDEN)}")
        if self.type == "regio" and self.slug not in REGIOS:
            raise ValueError(f"een regio-pagina heeft slug uit: {', '.join(REGIOS)}")
        if self.type == "programma" and self.slug is None:
            raise ValueError("een programma-pagina heeft een slug (gebruikt in /aanmelden/<slug>)")
        if self.aanmelden and self.type != "programma":
            raise ValueError("'aanmelden' kan alleen bij type 'programma'")
        return self


def _check_all(values: list[str], allowed: Mapping[str, str], key: str) -> list[str]:
    wrong = [v for v in values if v not in allowed]
    if wrong:
        raise ValueError(f"{', '.join(map(repr, wrong))} niet toegestaan; {_choices(key, allowed)}")
    if len(set(values)) != len(values):
        raise ValueError(f"{key} noemt een waarde twee keer")
    return values


class FrontMatterError(ValueError):
    """Front matter that does not fit the schema; the message names file, key and choices."""

    def __init__(self, path: str, problems: list[tuple[str, str]]) -> None:
        self.path = path
        self.problems = problems
        lines = [f"{path}: ongeldige front matter"]
        lines += [f"  - {key}: {message}" for key, message in problems]
        super().__init__("\n".join(lines))


def _describe(error: Any) -> tuple[str, str]:
    loc = ".".join(str(part) for part in error["loc"]) or "(pagina)"
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "literal_error" and error["loc"] and error["loc"][0] == "type":
        message = f"'{error['input']}' is geen paginatype; {_choices('type', get_args(PageType))}"
    elif error["type"] == "extra_forbidden":
        message = "onbekende sleutel (tikfout?)"
    elif error["type"] == "missing":
        message = "verplicht veld ontbreekt"
    return loc, message


def validate_front_matter(meta: Mapping[str, Any], path: str) -> PageMeta:
    """Validate one page's front matter, raising FrontMatterError naming file and keys."""
    try:
        return PageMeta.model_validate(dict(meta))
    except ValidationError as exc:
        raise FrontMatterError(path, [_describe(e) for e in exc.errors()]) from None


def dump_front_matter(meta: PageMeta) -> dict[str, Any]:
    """The front matter as plain data for YAML, without unset optional keys."""
    return meta.model_dump(mode="json", exclude_none=True, exclude_defaults=True) | {
        "type": meta.type,
        "title": meta.title,
        "summary": meta.summary,
    }


# Free mail services: an address there belongs to a person, almost always.
FREE_MAIL_DOMAINS = frozenset(
    (  # noqa: SIM905 - a word list reads better than 33 quoted strings
        "gmail.com googlemail.com hotmail.com hotmail.nl outlook.com outlook.nl live.com "
        "live.nl msn.com yahoo.com yahoo.nl icloud.com me.com ziggo.nl kpnmail.nl "
        "kpnplanet.nl planet.nl home.nl hetnet.nl xs4all.nl telfort.nl upcmail.nl casema.nl "
        "chello.nl quicknet.nl online.nl tele2.nl zeelandnet.nl proton.me protonmail.com "
        "gmx.com gmx.net aol.com"
    ).split()
)
# Words that make a dotted local part a team or a service ("team.wonen"), not a name.
ROLE_WORDS = frozenset(
    (  # noqa: SIM905 - a word list
        "info informatie contact team nazorg werkbezoek werkbezoeken agenda aanmelden "
        "aanmelding secretariaat receptie redactie post servicedesk vrijwilligers "
        "vrijwilliger cosa zorg wonen werk schulden reclassering veiligheidshuis zvh pi dji "
        "gemeente bestuur communicatie sociaal wijkteam buurtteam loket bureau ketensamenwerking"
    ).split()
)
_ADDRESS = re.compile(r"^[a-z0-9][a-z0-9.+_-]*@(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}$")


def checked_mailbox(value: str | None, key: str) -> str | None:
    """A schema validator's half: public data lives in git, so a general mailbox only."""
    problem = role_mailbox_problem(value) if value is not None else None
    if problem:
        raise ValueError(f"{key}: {problem}")
    return value


def role_mailbox_problem(value: str) -> str | None:
    """None for an organisation's general mailbox; otherwise why it cannot be published (in
    Dutch). Public text ends up in git and on every copy of the site: never a person's address.
    A moderator still looks at every submission; this catches the obvious cases."""
    address = value.strip().lower()
    if not _ADDRESS.match(address):
        return "Dit is geen geldig e-mailadres."
    local, domain = address.split("@", 1)
    if domain in FREE_MAIL_DOMAINS:
        return (
            "Dit adres is van een gratis maildienst en dus meestal persoonlijk. Gebruik een "
            "algemeen adres van de organisatie, zoals werkbezoek@jouworganisatie.nl."
        )
    if re.search(r"[._]", local) and not ROLE_WORDS.intersection(re.split(r"[._+-]", local)):
        return (
            "Dit lijkt een persoonlijk adres (zoals voornaam.achternaam@...). Gebruik een "
            "algemeen adres van de organisatie, zoals nazorg@ of werkbezoek@."
        )
    return None


class WieIsWieOrganisatie(BaseModel):
    """One organisation in the who-is-who directory: public facts and a role mailbox only."""

    model_config = ConfigDict(extra="forbid")

    naam: str = Field(min_length=1, max_length=200)
    type: str
    rol: str = Field(min_length=1, max_length=300, description="what to contact them for")
    plaats: str | None = Field(default=None, max_length=120)
    mailbox: str | None = Field(default=None, max_length=200)
    website: str | None = Field(default=None, max_length=300)
    gemeenten: list[str] = Field(default_factory=list)

    @field_validator("type")
    @classmethod
    def _type(cls, value: str) -> str:
        if value not in ORGANISATIETYPES:
            raise ValueError(f"'{value}' onbekend; {_choices('type', ORGANISATIETYPES)}")
        return value

    @field_validator("mailbox")
    @classmethod
    def _role_mailbox(cls, value: str | None) -> str | None:
        return checked_mailbox(value, "mailbox")


class WieIsWieRegio(BaseModel):
    """The organisations of one region."""

    model_config = ConfigDict(extra="forbid")

    regio: str
    organisaties: list[WieIsWieOrganisatie] = Field(min_length=1)

    @field_validator("regio")
    @classmethod
    def _regio(cls, value: str) -> str:
        if value not in REGIOS:
            raise ValueError(f"'{value}' is geen bekende regio; {_choices('regio', REGIOS)}")
        return value


def validate_wie_is_wie(data: Any, path: str) -> list[WieIsWieRegio]:
    """Validate the who-is-who data file (a list of regions)."""
    if not isinstance(data, list):
        raise FrontMatterError(path, [("(bestand)", "verwacht een lijst van regio's")])
    regions: list[WieIsWieRegio] = []
    problems: list[tuple[str, str]] = []
    for index, item in enumerate(data):
        try:
            regions.append(WieIsWieRegio.model_validate(item))
        except ValidationError as exc:
            for err in exc.errors():
                key, message = _describe(err)
                problems.append((f"[{index}].{key}", message))
    if problems:
        raise FrontMatterError(path, problems)
    return regions
