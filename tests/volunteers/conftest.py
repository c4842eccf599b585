"""Factories and story helpers for the volunteer tests."""

from __future__ import annotations

import email
import email.policy
import re
import socket
import threading
import time
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from flask.testing import FlaskClient

from forms_backend import db, mailer, outbox, volunteers

LINK = re.compile(r"http://brug\.test(/[^\s]+)")


def signup_data(**overrides: Any) -> dict[str, Any]:
    data = {
        "name": "Jan Jansen",
        "email": "jan@example.nl",
        "phone": "06 12345678",
        "postcode": "6811 AA",
        "motivation": "Ik wil graag helpen.",
        "availability": ["weekend"],
        "heard_via": "website",
        "consent": "y",
        "q_twee_jaar": "ja",
        "q_zedendelict": "ja",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def hidden(html: str, name: str) -> str | None:
    match = re.search(rf'name="{name}"[^>]*value="([^"]*)"', html) or re.search(
        rf'value="([^"]*)"[^>]*name="{name}"', html
    )
    return match.group(1) if match else None


class Volunteers:
    """Story helpers: sign up, read mail, confirm, follow personal links."""

    def __init__(self, app: Flask, client: FlaskClient, mail: Any) -> None:
        self.app, self.client, self.mail = app, client, mail

    def form(self, programme: str = "cosa", client: FlaskClient | None = None) -> dict[str, str]:
        return self.guard(f"/aanmelden/{programme}", client)

    def guard(self, path: str, client: FlaskClient | None = None) -> dict[str, str]:
        """The hidden fields (start stamp, CSRF token) of the form at ``path``."""
        page = (client or self.client).get(path)
        assert page.status_code == 200, page.status_code
        html = page.get_data(as_text=True)
        fields = {"started": hidden(html, "started")}
        token = hidden(html, "csrf_token")
        if token:
            fields["csrf_token"] = token
        return fields

    def sign_up(
        self, programme: str = "cosa", client: FlaskClient | None = None, **overrides: Any
    ) -> Any:
        data = {**self.form(programme, client), **signup_data(**overrides)}
        return (client or self.client).post(f"/aanmelden/{programme}", data=data)

    def deliver(self) -> list[Any]:
        before = len(self.mail.sent)
        outbox.deliver_due(
            db.get_engine(self.app), mailer.transport(self.app), self.app.extensions["brug.clock"]
        )
        return self.mail.sent[before:]

    @staticmethod
    def links(message: Any) -> list[str]:
        return LINK.findall(message.get_content())

    def confirm_link(self, message: Any) -> str:
        return next(
            link for link in self.links(message) if link.startswith("/aanmelden/bevestigen/")
        )

    def personal_link(self, message: Any) -> str:
        return next(link for link in self.links(message) if link.startswith("/mijn/"))

    def signed_up_and_confirmed(self, **overrides: Any) -> tuple[int, str]:
        """A confirmed volunteer; returns (id, personal link path)."""
        assert self.sign_up(**overrides).status_code == 303
        message = self.deliver()[-1]
        assert self.client.post(self.confirm_link(message)).status_code == 303
        with self.app.app_context(), db.transaction(write=False) as s:
            email = overrides.get("email", "jan@example.nl")
            volunteer = s.exec(
                volunteers.select(volunteers.Volunteer).where(volunteers.Volunteer.email == email)
            ).all()[-1]
        return volunteer.id, self.personal_link(message)

    def all(self) -> list[volunteers.Volunteer]:
        with self.app.app_context(), db.transaction(write=False) as s:
            return list(s.exec(volunteers.select(volunteers.Volunteer)))


@pytest.fixture
def vol(app: Flask, client: FlaskClient, mail: Any) -> Volunteers:
    return Volunteers(app, client, mail)


@pytest.fixture
def vol_for(mail: Any) -> Any:
    """Story helpers for an app a test built with its own configuration."""
    return lambda app: Volunteers(app, app.test_client(), mail)


class Inbox:
    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.arrived = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.arrived:
            self.messages.append(message)
        return "250 OK"

    def wait_for(self, to: str, subject: str, timeout: float = 60) -> email.message.EmailMessage:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.arrived:
                found = [m for m in self.messages if m["To"] == to and m["Subject"] == subject]
            if found:
                return found[-1]
            time.sleep(0.1)
        raise AssertionError(f"no mail {subject!r} to {to}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    inbox.port = controller.port
    yield inbox
    controller.stop()
