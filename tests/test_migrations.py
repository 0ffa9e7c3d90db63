"""Migrations: the schema they build matches the models, and a step down and up keeps data."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect

from haetae.cases.index import include_name
from haetae.clock import utcnow
from haetae.db import Base, Database
from haetae.incidents import activity, service
from haetae.incidents.schemas import DecisionIn, IncidentDeclare
from haetae.migrations import alembic_config, current, downgrade, upgrade, upgrade_to_head
from haetae.timeline import service as timeline


def _head_and_previous(url: str) -> tuple[str, str]:
    head = ScriptDirectory.from_config(alembic_config(url)).get_revision("head")
    assert head is not None and isinstance(head.down_revision, str)
    return head.revision, head.down_revision


def test_migrations_build_exactly_the_models_schema(fresh_database_url):
    upgrade_to_head(fresh_database_url)
    engine = create_engine(fresh_database_url)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_name": include_name})
        diff = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert diff == []


def _triggers(url: str) -> set[str]:
    engine = create_engine(url)
    with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            sql = "SELECT name FROM sqlite_master WHERE type = 'trigger'"
        else:
            sql = "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"
        names = {row[0] for row in conn.exec_driver_sql(sql)}
    engine.dispose()
    return names


def test_later_migrations_keep_the_search_index_triggers(fresh_database_url):
    # A batch operation on SQLite rebuilds its table and drops the table's triggers: the
    # search index (0011) would silently stop following incidents.
    upgrade(fresh_database_url, "0011")
    installed = _triggers(fresh_database_url)
    assert any(name.startswith("search_incident") for name in installed)
    upgrade_to_head(fresh_database_url)
    assert installed <= _triggers(fresh_database_url)
    head, _ = _head_and_previous(fresh_database_url)
    downgrade(fresh_database_url, "0011")
    assert installed <= _triggers(fresh_database_url)
    upgrade_to_head(fresh_database_url)
    assert current(fresh_database_url) == head


def test_downgrade_one_step_and_upgrade_keeps_every_row(fresh_database_url, policy):
    upgrade_to_head(fresh_database_url)
    db = Database(fresh_database_url)
    try:
        with db.session() as session:
            incident = service.declare_incident(
                session,
                policy,
                IncidentDeclare(title="DB disk full", business_impact="revenue", user_impact="all"),
                actor="test",
                now=utcnow(),
            )
            activity.record_decision(
                session,
                incident.id,
                DecisionIn(kind="technical", decision="expand volume", reason="fastest"),
                by="t",
                now=utcnow(),
            )
        db.dispose()
        head, previous = _head_and_previous(fresh_database_url)
        downgrade(fresh_database_url, "-1")
        assert current(fresh_database_url) == previous
        upgrade_to_head(fresh_database_url)
        assert current(fresh_database_url) == head
        with db.session() as session:
            kept = service.get_incident(session, incident.id)
            assert (kept.title, kept.severity) == ("DB disk full", "P1")
            assert [d.decision for d in activity.list_decisions(session, kept.id)] == [
                "expand volume"
            ]
            assert [e.kind for e in timeline.events(session, kept.id)] == [
                "declared",
                "escalation_started",
                "decision",
            ]
    finally:
        db.dispose()


def test_downgrade_to_base_and_back_up(fresh_database_url):
    upgrade_to_head(fresh_database_url)
    downgrade(fresh_database_url, "base")
    engine = create_engine(fresh_database_url)
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    engine.dispose()
    upgrade_to_head(fresh_database_url)
    assert current(fresh_database_url) == _head_and_previous(fresh_database_url)[0]
