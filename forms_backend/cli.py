"""Flask CLI: init-db, demo-data, create-user, send-mail, purge, serve, backup.

A command that fails says so in one Dutch line (``command_errors``), never with a traceback."""

from __future__ import annotations

import datetime as dt
import getpass
import threading
import time
from urllib.parse import urlsplit

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy.exc import OperationalError

from forms_backend import accounts, backup, clock, db, demo, mailer, outbox, retention, volunteers
from forms_backend.command_errors import CommandError, database_errors, database_failure
from forms_backend.content import REGIOS


def init_app(app: Flask) -> None:
    for command in (init_db, demo_data, create_user, send_mail, purge, serve, backup.command):
        app.cli.add_command(command)


@click.command("init-db")
@with_appcontext
@database_errors
def init_db() -> None:
    """Create or upgrade the database schema (Alembic migrations)."""
    db.upgrade(str(current_app.config["DATABASE_URL"]))
    click.echo("Database is bijgewerkt.")


@click.command("demo-data")
@click.option("--if-empty", is_flag=True, help="Alleen als er nog geen demogegevens zijn.")
@with_appcontext
@database_errors
def demo_data(if_empty: bool) -> None:
    """Fill the database with clearly marked demo data (no real people)."""
    with db.transaction() as session:
        if if_empty and demo.present(session):
            click.echo("Demogegevens staan er al.")
            return
        lines = demo.seed(session, now=clock.now(), config=current_app.config)
    for line in lines:
        click.echo(line)


@click.command("create-user")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", type=click.Choice(sorted(accounts.ROLES)), default="coordinator")
@click.option("--programme", "programmes", multiple=True, help="Programma (herhaalbaar).")
@click.option("--region", "regions", multiple=True, help="Regio (herhaalbaar).")
@click.option(
    "--password", envvar="BRUG_NEW_PASSWORD", default=None, help="Anders wordt erom gevraagd."
)
@with_appcontext
@database_errors
def create_user(
    email: str,
    name: str,
    role: str,
    programmes: tuple[str, ...],
    regions: tuple[str, ...],
    password: str | None,
) -> None:
    """Create a coordinator or administrator account."""
    known_programmes = volunteers.programmes()
    for slug in programmes:
        if slug not in known_programmes:
            raise CommandError(
                f"Het programma {slug!r} bestaat niet (of heeft geen aanmelding voor "
                f"vrijwilligers). Kies uit: {', '.join(sorted(known_programmes))}."
            )
    for slug in regions:
        if slug not in REGIOS:
            raise CommandError(
                f"De regio {slug!r} bestaat niet. Kies uit: {', '.join(sorted(REGIOS))}."
            )
    if password is None:
        password = getpass.getpass("Wachtwoord (minstens 12 tekens): ")
    try:
        with db.transaction() as session:
            accounts.create_user(
                session, email=email, name=name, password=password, role=role, now=clock.now(),
                programmes=list(programmes), regions=list(regions),
            )
    except accounts.AccountError as exc:
        raise CommandError(str(exc)) from None
    click.echo(f"Account aangemaakt voor {email} ({accounts.ROLES[role]}).")


@click.command("send-mail")
@click.option("--once", is_flag=True, help="Alles versturen wat nu klaarstaat en stoppen.")
@click.option("--interval", default=5.0, show_default=True, help="Seconden tussen rondes.")
@with_appcontext
@database_errors
def send_mail(once: bool, interval: float) -> None:
    """Deliver the mail outbox (retries with backoff; never drops a message)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    while True:
        rounds = outbox.drain(
            db.get_engine(app), mailer.transport(app), app.extensions["brug.clock"]
        )
        try:
            for sent, failed in rounds:
                if sent or failed:
                    click.echo(f"{sent} verstuurd, {failed} mislukt (volgende poging later).")
        except OperationalError as exc:
            if once:
                raise
            # The messages are safe in the database; keep polling until it is back.
            click.echo(f"{database_failure(exc)}; nieuwe poging over {interval:g} s.", err=True)
        if once:
            return
        time.sleep(interval)


@click.command("purge")
@with_appcontext
@database_errors
def purge() -> None:
    """Apply the retention rules: remove personal data whose term has passed."""
    with db.transaction() as session:
        report = retention.purge(session, now=clock.now())
    for what, count in report.items():
        click.echo(f"{what}: {count} verwijderd")


def start_background_workers(
    app: Flask, stop: threading.Event, *, mail_interval: float = 2.0
) -> list[threading.Thread]:
    """The mail worker and a daily purge, as threads of the embedded server."""

    def mail_loop() -> None:
        engine, transport = db.get_engine(app), mailer.transport(app)
        while not stop.is_set():
            try:
                for _round in outbox.drain(
                    engine, transport, app.extensions["brug.clock"], stop=stop.is_set
                ):
                    pass
            except Exception:  # keep the worker alive; the next round retries
                app.logger.exception("mail worker round failed")
            stop.wait(mail_interval)

    def purge_loop() -> None:
        while not stop.is_set():
            try:
                with app.app_context(), db.transaction() as session:
                    retention.purge(session, now=clock.now())
            except Exception:
                app.logger.exception("purge failed")
            stop.wait(dt.timedelta(days=1).total_seconds())

    threads = [threading.Thread(target=mail_loop, name="brug-mail", daemon=True),
               threading.Thread(target=purge_loop, name="brug-purge", daemon=True)]
    for thread in threads:
        thread.start()
    return threads


LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1", "0.0.0.0", "::")  # noqa: S104 - names, not binds


def link_warning(public_url: str, host: str, port: int) -> str | None:
    """A Dutch warning when links in mails would point to another local port than this one.

    Only for a local ``BRUG_PUBLIC_URL``: behind nginx the public address never names the port
    the backend listens on."""
    parts = urlsplit(public_url)
    if parts.hostname not in LOCAL_HOSTS:
        return None
    default = 443 if parts.scheme == "https" else 80
    if (parts.port or default) == port:
        return None
    return (
        f"Let op: links in e-mails en agenda's wijzen naar {public_url}, niet naar poort {port}."
        f" Zet BRUG_PUBLIC_URL=http://{host}:{port} (make serve doet dat zelf)."
    )


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True)
@with_appcontext
def serve(host: str, port: int) -> None:
    """Serve the built site and the backend on one port, with mail worker and daily purge."""
    from werkzeug.serving import run_simple

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    stop = threading.Event()
    start_background_workers(app, stop)
    click.echo(f"Brug draait op http://{host}:{port}/  (stoppen: Ctrl+C)")
    warning = link_warning(str(app.config["PUBLIC_URL"]), host, port)
    if warning:
        click.echo(warning)
    try:
        run_simple(host, port, app, threaded=True, use_reloader=False, use_debugger=False)
    finally:
        stop.set()
