"""Alembic migrations: the same schema on SQLite and MariaDB; upgrade on empty and up to date."""

from __future__ import annotations

from sqlalchemy import inspect

from shopd import migrations
from shopd.db import make_engine
from shopd.models import metadata
from tests.conftest import Backend


async def _schema(url: str) -> dict[str, dict[str, object]]:
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:

            def read(sync_conn):  # type: ignore[no-untyped-def]
                insp = inspect(sync_conn)
                out = {}
                for table in insp.get_table_names():
                    out[table] = {
                        "columns": sorted(
                            (c["name"], c["nullable"]) for c in insp.get_columns(table)
                        ),
                        "unique": sorted(
                            tuple(u["column_names"]) for u in insp.get_unique_constraints(table)
                        ),
                        "fks": sorted(
                            (tuple(f["constrained_columns"]), f["referred_table"])
                            for f in insp.get_foreign_keys(table)
                        ),
                        "pk": insp.get_pk_constraint(table)["constrained_columns"],
                    }
                return out

            return await conn.run_sync(read)
    finally:
        await engine.dispose()


async def test_upgrade_on_empty_then_up_to_date_database(backend: Backend) -> None:
    before, after = await migrations.upgrade(backend.url)
    assert before is None and after == migrations.head_revision()
    again = await migrations.upgrade(backend.url)
    assert again == (after, after)
    assert await migrations.current_revision(backend.url) == after


async def test_migrations_match_the_models(backend: Backend) -> None:
    await migrations.upgrade(backend.url)
    engine = make_engine(backend.url)
    try:
        async with engine.connect() as conn:
            diff = await conn.run_sync(migrations.schema_diff)
    finally:
        await engine.dispose()
    assert diff == []
    schema = await _schema(backend.url)
    assert set(schema) - {"alembic_version"} == set(metadata.tables)


_reference: dict[str, object] = {}


async def test_sqlite_and_mariadb_get_the_same_schema(backend: Backend) -> None:
    """Runs once per back end; the second run compares against the first."""
    await migrations.upgrade(backend.url)
    schema = await _schema(backend.url)
    if "schema" in _reference:
        assert schema == _reference["schema"], f"{backend.name} differs from {_reference['name']}"
    else:
        _reference.update(schema=schema, name=backend.name)


async def test_a_migrated_shop_has_its_service_pages(backend: Backend) -> None:
    from shopd.content import service as content
    from shopd.db import Database

    await migrations.upgrade(backend.url)
    db = Database(backend.url)
    try:
        async with db.read() as s:
            pages = await content.pages(s)
    finally:
        await db.dispose()
    assert [p.slug for p in pages] == [
        "shopping-guide",
        "service-promise",
        "returns",
        "payment",
        "delivery",
    ]
    assert "24" in next(p.body for p in pages if p.slug == "service-promise")
    # Each in one language per text: Chinese its own, English and Spanish as translations.
    returns = next(p for p in pages if p.slug == "returns")
    assert (returns.title, returns.text("title", "es", "en")) == (
        "退换货政策",
        "Devoluciones y cambios",
    )
    assert returns.text("body", "en", "en").startswith("Send goods back unused")
    assert "·" not in returns.title and "Send" not in returns.body
