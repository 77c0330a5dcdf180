"""Visit counters, KPIs, targets and reports: how the shop is doing."""
