"""Alembic environment: the URL comes from haetae's configuration, never from a file."""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context
from sqlalchemy import create_engine

import haetae.models  # noqa: F401  (registers every table on Base.metadata)
from haetae.cases.index import include_name
from haetae.config import Settings
from haetae.db import Base


def _database_url() -> str:
    """The URL `haetae db ...` passes in, else (`python -m alembic` with the repository's
    alembic.ini, which names none) the database the app itself would open."""
    given = context.config.get_main_option("sqlalchemy.url")
    if given:
        return given
    settings = Settings()
    if settings.is_sqlite:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    return settings.resolved_database_url


config = context.config
if config.config_file_name is not None:
    # Only alembic.ini has logging sections; `haetae db ...` keeps the app's logging.
    fileConfig(config.config_file_name, disable_existing_loggers=False)

engine = create_engine(_database_url())
with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_name=include_name,
    )
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
