"""A real SMTP server (aiosmtpd): the confirmation link travels through SMTP and works."""

from __future__ import annotations

import re

import pytest
from aiosmtpd.controller import Controller
from sqlmodel import select

from forms_backend import create_app, db, outbox
from tests.volunteers.conftest import Inbox, free_port


@pytest.fixture
def smtp_app(app_config, smtp):
    app_config.update(MAIL_TRANSPORT="smtp", SMTP_HOST="127.0.0.1", SMTP_PORT=smtp.port)
    app = create_app(app_config)
    yield app
    db.get_engine(app).dispose()


def test_confirmation_link_arrives_over_smtp_and_works(smtp_app, smtp, vol_for):
    vol = vol_for(smtp_app)
    client = vol.client
    assert vol.sign_up().status_code == 303
    with smtp_app.app_context():
        result = smtp_app.test_cli_runner().invoke(args=["send-mail", "--once"])
    assert result.exit_code == 0, result.output
    [message] = smtp.messages
    assert message["To"] == "jan@example.nl"
    assert message["Subject"] == "Bevestig je aanmelding als vrijwilliger"
    body = message.get_content()
    link = re.search(r"http://brug\.test(/aanmelden/bevestigen/\S+)", body).group(1)
    assert client.post(link).status_code == 303
    assert vol.all()[0].status == "bevestigd"
    personal = re.search(r"http://brug\.test(/mijn/\S+)", body).group(1)
    assert "jan@example.nl" in client.get(personal).get_data(as_text=True)


def test_smtp_down_keeps_the_message_and_retries_with_backoff(app_config, clock, vol_for):
    port = free_port()  # nothing listens here yet
    app_config.update(MAIL_TRANSPORT="smtp", SMTP_HOST="127.0.0.1", SMTP_PORT=port, SMTP_TIMEOUT=2)
    app = create_app(app_config)
    vol = vol_for(app)
    vol.sign_up()
    engine, transport = db.get_engine(app), app.extensions["brug.mail"]
    assert outbox.deliver_due(engine, transport, clock) == (0, 1)
    assert outbox.deliver_due(engine, transport, clock) == (0, 0)  # backing off
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        clock.advance(seconds=31)
        assert outbox.deliver_due(engine, transport, clock) == (1, 0)
    finally:
        controller.stop()
    assert len(inbox.messages) == 1
    with app.app_context(), db.transaction(write=False) as s:
        [row] = s.exec(select(outbox.OutboxMessage)).all()
        assert row.sent_at is not None and row.attempts == 2
    db.get_engine(app).dispose()
