"""How a Flask CLI command fails: one Dutch line on stderr and exit code 1, never a traceback."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import IO, Any, TypeVar

import click
from sqlalchemy.exc import OperationalError

F = TypeVar("F", bound=Callable[..., Any])


class CommandError(click.ClickException):
    """A command's failure, shown as "Fout: …" (click's own prefix is English)."""

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(f"Fout: {self.format_message()}", file=file, err=file is None)


def database_failure(exc: OperationalError) -> str:
    """One Dutch line for an unreachable database, with the driver's reason."""
    reason = str(exc.orig or exc).strip().splitlines()[0]
    return f"De database is niet bereikbaar: {reason}"


def database_errors(command: F) -> F:
    """Turn an unreachable database into a ``CommandError`` (put it right above the function)."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except OperationalError as exc:
            raise CommandError(database_failure(exc)) from None

    return wrapper  # type: ignore[return-value]
