"""A KPI report as people read it: Rich tables, CSV files for a spreadsheet, PNG charts."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from pathlib import Path

from rich.table import Table

from shopd.analytics.service import Kpis, Ranked
from shopd.formatting import format_date, format_money, format_number, major_units


def share(value: float | None) -> str:
    return "–" if value is None else f"{value:.1%}"


def summary_rows(k: Kpis) -> list[tuple[str, str, str]]:
    """(measure, value, against its target) — the lines of the summary table and CSV."""
    cur = k.currency
    t = k.targets
    aov = k.average_order_value
    rating = k.rating

    def target(progress: float | None, of: str) -> str:
        return "no target set" if progress is None else f"{progress:.1%} of {of}"

    return [
        ("visitors", format_number(k.visitors), ""),
        ("page views", format_number(k.page_views), ""),
        (
            "orders",
            format_number(k.orders),
            target(k.orders_progress, format_number(k.orders_target)),
        ),
        ("paid orders", format_number(k.paid_orders), ""),
        (
            "conversion",
            share(k.conversion),
            f"target {t.conversion_bp / 100:.2f}%" if t.conversion_bp else "no target set",
        ),
        ("sales", format_money(k.sales, cur), ""),
        ("refunds", format_money(k.refunds, cur), ""),
        ("average order value", "–" if aov is None else format_money(aov, cur), ""),
        ("paying customers", format_number(k.paying_customers), ""),
        ("new customers", format_number(k.new_customers), ""),
        ("returning customers", format_number(k.returning_customers), ""),
        ("reviews", format_number(k.reviews), ""),
        ("rating", "–" if rating is None else f"{rating:.2f} / 5", ""),
        (
            "favourable reviews",
            share(k.favourable_rate),
            f"target {t.favourable_bp / 100:.1f}%" if t.favourable_bp else "",
        ),
        ("shipped within 24 h", share(k.shipped_24h), f"of {k.ready[0]:,} ready orders"),
        ("shipped within 48 h", share(k.shipped_48h), f"of {k.ready[1]:,} ready orders"),
        (
            "month's sales",
            format_money(k.month_sales, cur),
            target(k.month_progress, format_money(t.monthly_sales, cur)),
        ),
        (
            "year's sales",
            format_money(k.year_sales, cur),
            target(k.year_progress, format_money(t.yearly_sales, cur)),
        ),
    ]


def missed(k: Kpis) -> set[str]:
    """Measures below their target (shown red)."""
    t = k.targets
    low = set()
    if k.orders_progress is not None and k.orders_progress < 1:
        low.add("orders")
    if t.conversion_bp and k.conversion is not None and k.conversion * 10_000 < t.conversion_bp:
        low.add("conversion")
    if (
        t.favourable_bp
        and k.favourable_rate is not None
        and k.favourable_rate * 10_000 < t.favourable_bp
    ):
        low.add("favourable reviews")
    return low


def summary_table(k: Kpis, title: str) -> Table:
    table = Table(title=f"{title} · {k.period.label}")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_column("target")
    low = missed(k)
    for name, value, against in summary_rows(k):
        table.add_row(name, f"[red]{value}[/]" if name in low else value, against)
    return table


def days_table(k: Kpis) -> Table:
    daily = k.targets.daily_orders
    table = Table(title="per day")
    for column in ("day", "visitors", "page views", "orders", "paid", "sales", "conversion"):
        table.add_column(column, justify="right")
    for d in k.days:
        orders = format_number(d.orders)
        if daily:
            orders = f"[{'green' if d.orders >= daily else 'red'}]{orders}[/]"
        table.add_row(
            format_date(d.day),
            format_number(d.visitors),
            format_number(d.page_views),
            orders,
            format_number(d.paid_orders),
            format_money(d.sales, k.currency),
            share(d.orders / d.visitors if d.visitors else None),
        )
    return table


def ranked_table(title: str, rows: Sequence[Ranked], currency: str | None) -> Table:
    table = Table(title=title)
    table.add_column("#", justify="right")
    table.add_column("name")
    table.add_column("count", justify="right")
    if currency:
        table.add_column("sales", justify="right")
    for n, r in enumerate(rows, start=1):
        table.add_row(
            str(n),
            r.name,
            format_number(r.count),
            *([format_money(r.amount, currency)] if currency else []),
        )
    if not rows:
        table.add_row("", "[dim]none in this period[/]", "", *([""] if currency else []))
    return table


def tables(k: Kpis, title: str, *, per_day: bool) -> list[Table]:
    found = [summary_table(k, title)]
    if per_day:
        found.append(days_table(k))
    found += [
        ranked_table("top products", k.top_products, k.currency),
        ranked_table("top categories", k.top_categories, k.currency),
        ranked_table("top searches", k.top_searches, None),
        ranked_table("searches that found nothing", k.empty_searches, None),
    ]
    return found


def _write(path: Path, header: Sequence[str], rows: Iterable[Sequence[object]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(header)
        out.writerows(rows)
    return path


def write_csv(k: Kpis, out: Path) -> list[Path]:
    """Plain numbers (money in minor units) for a spreadsheet: one file per table."""
    out.mkdir(parents=True, exist_ok=True)

    def ratio(v: float | None) -> str:
        return "" if v is None else f"{v:.6f}"

    summary = [
        ("visitors", k.visitors),
        ("page_views", k.page_views),
        ("product_views", k.product_views),
        ("carts", k.carts),
        ("orders", k.orders),
        ("orders_target", k.orders_target),
        ("paid_orders", k.paid_orders),
        ("conversion", ratio(k.conversion)),
        ("sales", k.sales),
        ("refunds", k.refunds),
        ("average_order_value", k.average_order_value or ""),
        ("paying_customers", k.paying_customers),
        ("new_customers", k.new_customers),
        ("returning_customers", k.returning_customers),
        ("reviews", k.reviews),
        ("rating", ratio(k.rating)),
        ("favourable_rate", ratio(k.favourable_rate)),
        ("shipped_24h", ratio(k.shipped_24h)),
        ("shipped_48h", ratio(k.shipped_48h)),
        ("month_sales", k.month_sales),
        ("monthly_sales_target", k.targets.monthly_sales),
        ("month_completion", ratio(k.month_progress)),
        ("year_sales", k.year_sales),
        ("yearly_sales_target", k.targets.yearly_sales),
        ("year_completion", ratio(k.year_progress)),
    ]
    return [
        _write(out / "kpis.csv", ("measure", "value"), summary),
        _write(
            out / "days.csv",
            ("day", "visitors", "page_views", "orders", "paid_orders", "sales"),
            [
                (d.day.isoformat(), d.visitors, d.page_views, d.orders, d.paid_orders, d.sales)
                for d in k.days
            ],
        ),
        _write(out / "hours.csv", ("hour", "orders"), enumerate(k.hours)),
        *(
            _write(
                out / f"{name}.csv",
                ("name", "count", "amount"),
                [(r.name, r.count, r.amount) for r in rows],
            )
            for name, rows in (
                ("top_products", k.top_products),
                ("top_categories", k.top_categories),
                ("top_searches", k.top_searches),
                ("empty_searches", k.empty_searches),
            )
        ),
    ]


def funnel(k: Kpis) -> list[tuple[str, int]]:
    return [
        ("visitors", k.visitors),
        ("product views", k.product_views),
        ("carts", k.carts),
        ("orders", k.orders),
        ("paid orders", k.paid_orders),
    ]


def draw(k: Kpis, out: Path, *, charts: Sequence[str]) -> list[Path]:
    """PNG charts: ``sales`` per day against the target, the ``funnel`` from visit to order,
    ``hours`` — orders per hour."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    made = []
    for chart in charts:
        fig, ax = plt.subplots(figsize=(9, 4.5))
        if chart == "sales":
            days = [d.day.strftime("%m-%d") for d in k.days]
            ax.bar(days, [major_units(d.sales) for d in k.days], color="tab:blue", label="sales")
            if k.targets.monthly_sales:
                per_day = major_units(k.targets.monthly_sales) / max(len(k.period.days), 1)
                ax.axhline(per_day, color="tab:red", linestyle="--", label="daily share of target")
            ax.set_ylabel(k.currency)
            ax.set_title(f"sales per day · {k.period.label}")
            ax.tick_params(axis="x", labelrotation=90)
            ax.legend(loc="upper left")
        elif chart == "funnel":
            steps = funnel(k)
            names = [s for s, _ in steps][::-1]
            ax.barh(names, [n for _, n in steps][::-1], color="tab:green")
            for y, (_, n) in enumerate(steps[::-1]):
                ax.annotate(
                    format_number(n), (n, y), xytext=(4, 0), textcoords="offset points", va="center"
                )
            ax.set_title(f"from visit to order · {k.period.label}")
        else:
            ax.bar([f"{h:02d}" for h in range(24)], k.hours, color="tab:orange")
            ax.set_xlabel("hour")
            ax.set_ylabel("orders")
            ax.set_title(f"orders per hour · {k.period.label}")
        ax.grid(alpha=0.3)
        fig.tight_layout()
        path = out / f"{chart}.png"
        fig.savefig(path, dpi=100)
        plt.close(fig)
        made.append(path)
    return made
