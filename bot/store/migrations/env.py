"""Alembic environment: migrates only the bot's own tables, not Rasa's `events`."""

from contextlib import nullcontext

from alembic import context

from bot.store.db import get_engine
from bot.store.models import Base

target_metadata = Base.metadata


def include_object(obj, name, type_, reflected, compare_to):  # noqa: ANN001, ANN201
    return name in target_metadata.tables if type_ == "table" else True


def run_migrations() -> None:
    given = context.config.attributes.get("connection")
    url = context.config.attributes.get("database_url")
    with nullcontext(given) if given else get_engine(url).connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:  # batch mode rebuilds tables; FK checks must be off meanwhile
            connection.connection.execute("PRAGMA foreign_keys=OFF")
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            include_object=include_object,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()
        if sqlite:
            connection.connection.execute("PRAGMA foreign_keys=ON")


run_migrations()
