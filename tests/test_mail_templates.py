"""Every mail Brug sends speaks the same way: a subject line, "Beste <naam>," and a footer
that says the mail was sent automatically and cannot be answered (no one reads replies)."""

from __future__ import annotations

from pathlib import Path

import pytest

MAIL = Path(__file__).resolve().parents[1] / "forms_backend" / "templates" / "mail"
ALL = {p.name: p.read_text(encoding="utf-8") for p in MAIL.glob("*.txt")}
# parts: templates that others include (footers, the coordinator's note), never sent alone
PARTS = {name for name in ALL if any(f'{{% include "{name}" %}}' in t for t in ALL.values())}
TEMPLATES = sorted(MAIL / name for name in ALL if name not in PARTS)
FOOTERS = {name: ALL[name] for name in PARTS if name.endswith("_footer.txt")}


def test_there_are_mail_templates():
    assert len(TEMPLATES) >= 20 and FOOTERS


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.name)
def test_a_mail_greets_with_beste_and_ends_with_the_no_reply_footer(path: Path):
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0].strip() and "{%" not in lines[0], "the first line is the subject"
    assert lines[1].startswith("Beste "), lines[1]
    text = "\n".join(lines)
    included = [name for name in FOOTERS if f'{{% include "{name}" %}}' in text]
    assert included or "Je kunt er niet op antwoorden" in text
    assert all("Je kunt er niet op antwoorden" in FOOTERS[name] for name in included)
    assert "Groet," not in text and "Hallo " not in text


def test_every_mail_carries_a_date_header() -> None:
    """RFC 5322 requires Date; receivers' spam filters count a missing one against a message."""
    import datetime as dt
    from email.utils import parsedate_to_datetime

    from forms_backend.mailer import build_email
    from forms_backend.outbox import Outgoing

    before = dt.datetime.now(dt.UTC).replace(microsecond=0)
    email = build_email(
        Outgoing(1, "a@example.nl", "Onderwerp", "Tekst", None, None),
        sender="Brug <no-reply@example.nl>",
        domain="example.nl",
    )
    sent = parsedate_to_datetime(email["Date"])
    assert sent.tzinfo is not None and before <= sent <= dt.datetime.now(dt.UTC)
