"""Fixtures for submissions: a private content folder, a live site with releases, factories.

Builds are real (`mkdocs build --strict` in a child process). The first real build of the
repository's content is made once per session and copied in as the live release, so a test
that publishes pays for one build, not two.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from forms_backend import db, submissions
from forms_backend.publishing import FileSystemWriter, Publisher

ROOT = Path(__file__).resolve().parents[2]

# Clearly invented contact details: the no-personal-data test greps every output for them.
CONTACT_NAME = "Fenna Oudeboer-Zwartveld"
CONTACT_EMAIL = "fenna.zwartveld.inzender@example.nl"


@pytest.fixture(scope="session")
def first_release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real build of content/ made by the Publisher, once per session."""
    base = tmp_path_factory.mktemp("first_release")
    publisher = Publisher(
        content_dir=ROOT / "content",
        site_dir=base / "build" / "site",
        releases_dir=base / "build" / "releases",
    )
    outcome = publisher.build()
    if not outcome.ok:
        pytest.fail(f"the first build failed:\n{outcome.message}")
    return base / "build" / "releases" / str(outcome.release)


@pytest.fixture
def content_dir(tmp_path: Path) -> Path:
    path = tmp_path / "content"
    shutil.copytree(ROOT / "content", path)
    return path


@pytest.fixture
def live_site(tmp_path: Path) -> Path:
    """The live pointer; empty (no release) unless a test asks for ``published_site``."""
    return tmp_path / "build" / "site"


@pytest.fixture
def published_site(live_site: Path, first_release: Path) -> Path:
    """build/site -> releases/<first>, as after `make build`."""
    release = live_site.parent / "releases" / "20000101T000000000000Z"
    shutil.copytree(first_release, release, symlinks=True)
    Publisher(content_dir=ROOT / "content", site_dir=live_site, releases_dir=release.parent).switch(
        release
    )
    return live_site


@pytest.fixture
def app_config(app_config: dict[str, Any], content_dir: Path, live_site: Path) -> dict[str, Any]:
    return {
        **app_config,
        "CONTENT_DIR": str(content_dir),
        "SITE_DIR": str(live_site),
        "BUILD_WORKER": "off",
    }


@pytest.fixture
def publisher(app: Flask) -> Publisher:
    return Publisher.from_config(app.config)


@pytest.fixture
def writer(content_dir: Path) -> FileSystemWriter:
    return FileSystemWriter(content_dir)


def run_builds(app: Flask) -> bool | None:
    """What the build worker does, run here and now."""
    return submissions.run_pending_builds(
        db.get_engine(app),
        Publisher.from_config(app.config),
        clock=app.extensions["brug.clock"],
        writer=FileSystemWriter(app.config["CONTENT_DIR"]),
        public_url=app.config["PUBLIC_URL"],
    )


def praktijk_form(**overrides: Any) -> dict[str, Any]:
    """A valid public form post for a praktijk; tests override what they are about."""
    data: dict[str, Any] = {
        "title": "Buurtteam Voorbeeldstad: wonen na detentie",
        "summary": (
            "Het buurtteam regelt samen met de woningcorporatie een kamer vóór de dag van "
            "vrijlating."
        ),
        "body": (
            "## Zo werkt het\n\n- De casemanager belt het buurtteam.\n"
            "- Samen zoeken ze een kamer.\n\nMeer: [alle praktijken](/praktijken/)."
        ),
        "leefgebieden": ["wonen"],
        "regio": "gelderland",
        "fase": ["tijdens", "na"],
        "organisatietypes": ["gemeente", "woningcorporatie"],
        "organisatie": "Gemeente Voorbeeldstad",
        "bronnen": "Jaarverslag buurtteam | Gemeente Voorbeeldstad | https://voorbeeldstad.example.nl/jaarverslag",
        "contact_name": CONTACT_NAME,
        "contact_email": CONTACT_EMAIL,
        "consent": "y",
        "actie": "versturen",
    }
    data.update(overrides)
    return data


def werkbezoek_form(**overrides: Any) -> dict[str, Any]:
    data = praktijk_form(
        title="Werkbezoek aan het leer-werkbedrijf Voorbeeldstad",
        summary="Kom kijken hoe (ex-)gedetineerden in ons leer-werkbedrijf een vak leren.",
        leefgebieden=["werk-en-dagbesteding"],
        organisatietypes=["gemeente"],
        plaats="Voorbeeldstad",
        role_mailbox="werkbezoek@voorbeeldstad.example.nl",
    )
    data.update(overrides)
    return data


@pytest.fixture
def submit(client: Any) -> Iterator[Any]:
    """Post a submission form; returns the response."""

    def _submit(kind: str = "praktijk", **overrides: Any) -> Any:
        form = praktijk_form(**overrides) if kind == "praktijk" else werkbezoek_form(**overrides)
        page = client.get(f"/inzenden/{kind}").get_data(as_text=True)
        form.setdefault("started", re.search(r'name="started"[^>]*value="([^"]+)"', page).group(1))
        return client.post(f"/inzenden/{kind}", data=form)

    yield _submit
