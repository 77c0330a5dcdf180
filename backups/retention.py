"""Which backups to keep: the last few, then one per day, ISO week and month (grandfather-father-son)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from backups import store


@dataclass(frozen=True)
class Policy:
    last: int = 3
    daily: int = 7
    weekly: int = 4
    monthly: int = 6


@dataclass
class Plan:
    keep: dict[str, list[str]] = field(default_factory=dict)  # backup id → why it is kept
    drop: list[store.Backup] = field(default_factory=list)


def plan(backups: list[store.Backup], policy: Policy) -> Plan:
    newest_first = sorted(backups, key=lambda b: b.created_at, reverse=True)
    reasons: dict[str, list[str]] = {b.id: [] for b in newest_first}
    for b in newest_first[: policy.last]:
        reasons[b.id].append("last")
    buckets = (
        ("daily", policy.daily, lambda t: t.date().isoformat()),
        ("weekly", policy.weekly, lambda t: "{}-W{:02d}".format(*t.isocalendar()[:2])),
        ("monthly", policy.monthly, lambda t: t.strftime("%Y-%m")),
    )
    for label, count, key in buckets:
        seen: list[str] = []
        for b in newest_first:
            bucket = key(b.created_at.astimezone(dt.UTC))
            if bucket in seen:
                continue
            if len(seen) == count:
                break
            seen.append(bucket)
            reasons[b.id].append(f"{label} {bucket}")
    # However the policy is set, the newest backup proven good survives.
    verified = [b for b in newest_first if b.verified]
    if verified:
        reasons[verified[0].id].append("newest verified")
    result = Plan()
    for b in newest_first:
        if reasons[b.id]:
            result.keep[b.id] = reasons[b.id]
        else:
            result.drop.append(b)
    return result
