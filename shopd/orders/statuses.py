"""The order statuses, in lifecycle order, and the legal edges between them. Free of imports:
the staff TUI reads them too."""

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

# Every legal edge. Anything not listed here is refused with ``invalid_transition``.
TRANSITIONS: dict[str, frozenset[str]] = {
    # Cash on delivery skips "paid": the money arrives with the parcel.
    "pending_payment": frozenset({"paid", "picking", "cancelled"}),
    "paid": frozenset({"picking", "cancelled"}),
    "picking": frozenset({"shipped", "cancelled"}),
    "shipped": frozenset({"delivered"}),
    "delivered": frozenset({"completed", "return_requested"}),
    "completed": frozenset({"return_requested"}),
    # A rejected return closes the order as completed.
    "return_requested": frozenset({"returned", "completed"}),
    "returned": frozenset({"refunded"}),
    # After a partial return the customer may still send back the rest.
    "refunded": frozenset({"return_requested"}),
    "cancelled": frozenset(),
}
# Not shipped yet: these count against the 24/48-hour dispatch promise.
AWAITING_DISPATCH = ("pending_payment", "paid", "picking")
# The address and contact may change in these, until the packing slip is printed.
EDITABLE_CONTACT = ("pending_payment", "paid", "picking")
