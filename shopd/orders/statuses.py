"""The order statuses, in lifecycle order. Free of imports: the staff TUI reads them too."""

STATUSES = (
    "pending_payment",
    "paid",
    "picking",
    "shipped",
    "delivered",
    "completed",
    "cancelled",
    "return_requested",
    "returned",
    "refunded",
)
