"""What a restored shop database must satisfy, asked in SQL both back ends understand."""

from __future__ import annotations

from backups.database import Database

# name → (SQL counting violations, what a violation means)
INTEGRITY: dict[str, tuple[str, str]] = {
    "order lines have their order": (
        "SELECT COUNT(*) FROM order_lines l LEFT JOIN orders o ON o.id = l.order_id"
        " WHERE o.id IS NULL",
        "order lines whose order is missing",
    ),
    "orders have lines": (
        "SELECT COUNT(*) FROM orders o"
        " WHERE NOT EXISTS (SELECT 1 FROM order_lines l WHERE l.order_id = o.id)",
        "orders without any line",
    ),
    "stock ledger sums to on-hand": (
        "SELECT COUNT(*) FROM stock_levels s WHERE s.on_hand <>"
        " COALESCE((SELECT SUM(m.delta) FROM stock_movements m WHERE m.sku_id = s.sku_id), 0)",
        "SKUs whose on-hand differs from the sum of their stock movements",
    ),
    "payments have their order": (
        "SELECT COUNT(*) FROM payments p LEFT JOIN orders o ON o.id = p.order_id WHERE o.id IS NULL",
        "payments whose order is missing",
    ),
}
NEEDED = ("orders", "order_lines", "stock_levels", "stock_movements", "payments")


def table_counts(db: Database) -> dict[str, int]:
    return {
        name: int(db.query(f"SELECT COUNT(*) FROM {_quote(db, name)}")[0][0] or 0)
        for name in db.tables()
    }


def schema_version(db: Database) -> str | None:
    if "alembic_version" not in db.tables():
        return None
    rows = db.query("SELECT version_num FROM alembic_version")
    return str(rows[0][0]) if rows else None


def integrity_problems(db: Database) -> list[str]:
    present = set(db.tables())
    missing = [t for t in NEEDED if t not in present]
    if missing:
        return [f"not a shopd database: tables {', '.join(missing)} are missing"]
    problems = []
    for check, (sql, meaning) in INTEGRITY.items():
        bad = int(db.query(sql)[0][0] or 0)
        if bad:
            problems.append(f"{check}: {bad} {meaning}")
    return problems


def _quote(db: Database, name: str) -> str:
    return f"`{name}`" if db.kind == "mysql" else f'"{name}"'
