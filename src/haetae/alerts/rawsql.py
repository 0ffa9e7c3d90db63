"""Driver-level SQL for the ingest hot path.

Compiling a statement through SQLAlchemy costs more than running it for the small,
frequent statements of ingest (a lookup of open alerts, an update per repeat). Here the
SQL is written once, with `{}` where each parameter goes, and values pass through the
columns' own bind processors, so they are stored exactly as the ORM would store them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import orjson
from sqlalchemy import JSON, Dialect, Table
from sqlalchemy.orm import Session


class RawSQL:
    def __init__(self, session: Session, table: Table) -> None:
        self.connection = session.connection()
        dialect = self.connection.dialect
        self.marker = "?" if dialect.paramstyle == "qmark" else "%s"
        self._processors = _processors(table, dialect)

    def _sql(self, template: str, count: int) -> str:
        return template.format(*([self.marker] * count))

    def execute(self, template: str, params: Sequence[Any], *, expand: int = 0) -> list[Any]:
        """Run a query whose last `{}` is an IN list of `expand` values."""
        if expand:
            template = template.replace("({})", "(" + ", ".join(["{}"] * expand) + ")")
        sql = self._sql(template, len(params))
        result = self.connection.exec_driver_sql(sql, tuple(params))
        return list(result) if result.returns_rows else []

    def bind(self, columns: Sequence[str], values: Sequence[Any]) -> list[Any]:
        """Values as the columns' types store them."""
        bound = []
        for column, value in zip(columns, values, strict=True):
            processor = self._processors.get(column)
            bound.append(processor(value) if processor is not None else value)
        return bound

    def executemany(self, template: str, columns: Sequence[str], rows: list[list[Any]]) -> None:
        """Run one statement for many rows; each value goes through its column's type."""
        prepared = [tuple(self.bind(columns, row)) for row in rows]
        sql = self._sql(template, len(columns))
        self.connection.exec_driver_sql(sql, prepared)


def _json_text(value: Any) -> str | None:
    return None if value is None else orjson.dumps(value).decode()


_PROCESSORS: dict[tuple[str, str], dict[str, Callable[[Any], Any] | None]] = {}


def _processors(table: Table, dialect: Dialect) -> dict[str, Callable[[Any], Any] | None]:
    """Each column's bind processor, worked out once per table and database kind."""
    key = (table.name, dialect.name)
    found = _PROCESSORS.get(key)
    if found is None:
        found = {}
        for column in table.columns:
            processor = column.type.bind_processor(dialect)
            if processor is None and isinstance(column.type, JSON):
                # psycopg adapts JSON itself in the ORM's path; here it gets the text,
                # which PostgreSQL casts to json.
                processor = _json_text
            found[column.key] = processor
        _PROCESSORS[key] = found
    return found
