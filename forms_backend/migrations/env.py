"""Alembic environment: the schema is SQLModel.metadata of every table module."""

from __future__ import annotations

from alembic import context

from forms_backend import db, models

config = context.config
target_metadata = models.metadata


def run_migrations() -> None:
    url = config.get_main_option("sqlalchemy.url")
    assert url is not None
    connectable = config.attributes.get("connection")
    if connectable is not None:
        _run(connectable)
        return
    engine = db.make_engine(url)
    # A migration writes: on SQLite its transaction is BEGIN IMMEDIATE, in the write queue.
    with db.write_engine(engine).connect() as connection:
        _run(connection)
    engine.dispose()


def _run(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite cannot ALTER most things; batch mode copies tables
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
