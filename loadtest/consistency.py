"""After a run: did the shop stay right? Nothing oversold, every accepted checkout an order,
the stock ledger summing to on-hand. A run that breaks any of it fails, whatever its latencies."""

from __future__ import annotations

from pathlib import Path

from backups.checks import integrity_problems
from backups.database import Database


def accepted_orders(out_dir: Path) -> set[str]:
    numbers: set[str] = set()
    for path in out_dir.glob("accepted-*.txt"):
        numbers |= {line.strip() for line in path.read_text().splitlines() if line.strip()}
    return numbers


def check(db: Database, out_dir: Path) -> list[str]:
    problems = list(integrity_problems(db))
    negative = db.query("SELECT COUNT(*) FROM stock_levels WHERE on_hand < 0 OR reserved < 0")[0][0]
    if int(negative or 0):
        problems.append(f"oversold: {negative} SKUs with negative stock")
    flash = db.query("SELECT id, sold, quantity FROM flash_sales WHERE sold > quantity")
    for sale_id, sold, quantity in flash:
        problems.append(f"flash sale {sale_id} oversold: {sold} sold of {quantity}")
    accepted = accepted_orders(out_dir)
    if accepted:
        stored = {str(r[0]) for r in db.query("SELECT number FROM orders")}
        missing = sorted(accepted - stored)
        if missing:
            problems.append(
                f"{len(missing)} accepted checkouts are not orders: {', '.join(missing[:5])}"
            )
    return problems
