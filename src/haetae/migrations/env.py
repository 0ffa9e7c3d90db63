"""Alembic environment: the URL comes from haetae's configuration, never from a file."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

import haetae.models  # noqa: F401  (registers every table on Base.metadata)
from haetae.db import Base

config = context.config
url = config.get_main_option("sqlalchemy.url")
assert url, "sqlalchemy.url must be set by haetae.migrations.alembic_config"

engine = create_engine(url)
with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
