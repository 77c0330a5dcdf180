"""Which staff actions an order allows, for which role, and why the others are refused.

Each action's rule is stated here once: the lowest role its endpoint serves (the staff guard
reads it), a finer role by the order (cancelling a paid order needs a manager: money goes
back), and what the order's state must be. The services raise :func:`refusal`'s error before
they change anything, and the staff API lists the same refusals with each order
(``allowed_actions``, ``refused_actions``), so what the TUI offers cannot drift from what the
API accepts.

A refusal is the very error the action's endpoint answers with: ``forbidden`` (403) for the
role, ``invalid_transition``, ``group_buy_pending`` or ``order_locked`` (409) for the state.
What an action's input may be (an amount, a carrier) is checked by its service, not here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from shopd.errors import Conflict, DomainError, Forbidden, InvalidTransition
from shopd.orders.models import Order
from shopd.orders.statuses import AWAITING_DISPATCH, EDITABLE_CONTACT, TRANSITIONS
from shopd.staff.audit import ROLE_RANK, Actor

StateRule = Callable[[Order], DomainError | None]


def transition_refusal(order: Order, to: str) -> InvalidTransition | None:
    """Why the order cannot move to ``to`` along the state machine, or None."""
    src = order.status
    if to in TRANSITIONS.get(src, frozenset()):
        return None
    return InvalidTransition(
        f"an order that is {src} cannot become {to}",
        details={"from": src, "to": to, "allowed": sorted(TRANSITIONS.get(src, ()))},
    )


def payable_refusal(order: Order, method: str, label: str) -> InvalidTransition | None:
    """Why the order cannot be paid by ``method`` now: paid another way, or not waiting."""
    if order.payment_method != method:
        return InvalidTransition(
            f"order {order.number} is paid by {order.payment_method}, not by {label}",
            details={"payment_method": order.payment_method},
        )
    if order.status != "pending_payment":
        return InvalidTransition(
            f"an order that is {order.status} cannot be paid",
            details={"from": order.status, "to": "paid"},
        )
    return None


def awaits_group(order: Order) -> bool:
    """A group-buy order waits for its group: its dispatch clock (``ready_at``) starts only
    when the group succeeds (at payment if it had succeeded already)."""
    return order.group_buy_id is not None and order.ready_at is None


def _status_is(status: str, to: str, message: str) -> StateRule:
    """Only an order that is ``status`` allows it; ``message`` takes the order's status."""

    def rule(order: Order) -> DomainError | None:
        if order.status == status:
            return None
        return InvalidTransition(
            message.format(order.status), details={"from": order.status, "to": to}
        )

    return rule


def _confirm_payment(order: Order) -> DomainError | None:
    return payable_refusal(order, "bank_transfer", "bank transfer")


def _unpaid(order: Order) -> str:
    """An unpaid order's state in words that say what comes first (a refusal names the step
    staff can take now, not only the one they cannot)."""
    waiting = {
        "bank_transfer": "the bank transfer has not arrived yet (record it with 'bank paid')",
        "card": "the card payment has not arrived yet",
    }
    return waiting.get(order.payment_method, f"the order is not paid yet ({order.payment_method})")


def _start_picking(order: Order) -> DomainError | None:
    if order.status == "pending_payment" and order.payment_method != "cod":
        # Only cash on delivery is picked before it is paid.
        return InvalidTransition(
            f"{_unpaid(order)}; it is picked once paid",
            details={"payment_method": order.payment_method},
        )
    if awaits_group(order):
        return Conflict(
            "this order belongs to a group buy that has not succeeded yet; it ships after",
            code="group_buy_pending",
            details={"group_buy": order.group_buy_id},
        )
    return transition_refusal(order, "picking")


def _print(order: Order) -> DomainError | None:
    if order.status in AWAITING_DISPATCH:
        return None
    return InvalidTransition(
        f"an order that is {order.status} has no packing slip to print",
        details={"from": order.status},
    )


def _ship(order: Order) -> DomainError | None:
    if order.status == "picking":
        return None
    # Shipping straight from paid would skip the pick; say what is needed instead.
    if order.status == "pending_payment" and order.payment_method != "cod":
        return InvalidTransition(
            f"{_unpaid(order)}; it is paid, then picked, then shipped",
            details={"from": order.status, "to": "shipped"},
        )
    return InvalidTransition(
        f"an order that is {order.status} cannot be shipped; start picking first"
        if order.status in ("paid", "pending_payment")
        else f"an order that is {order.status} cannot be shipped",
        details={"from": order.status, "to": "shipped"},
    )


def _edit_contact(order: Order) -> DomainError | None:
    if order.status in EDITABLE_CONTACT and order.printed_at is None:
        return None
    return Conflict(
        "the parcel is labelled or on its way: the address can no longer change",
        code="order_locked",
        details={"status": order.status, "printed": order.printed_at is not None},
    )


def _request_return(order: Order) -> DomainError | None:
    if "return_requested" not in TRANSITIONS.get(order.status, frozenset()):
        return InvalidTransition(
            f"an order that is {order.status} cannot be returned",
            details={"from": order.status, "to": "return_requested"},
        )
    if all(ln.returned_quantity >= ln.quantity for ln in order.lines):
        return InvalidTransition(
            f"everything in order {order.number} has been returned already",
            details={"from": order.status, "to": "return_requested"},
        )
    return None


def _cancel_role(order: Order) -> str | None:
    # Money has to go back: that is a manager's decision.
    return "manager" if order.paid_at is not None else None


@dataclass(frozen=True, slots=True)
class OrderAction:
    name: str
    # Says who may do it, in "... needs the manager role".
    what: str
    state: StateRule | None = None
    # The lowest role its endpoint serves, checked before the order is even looked up.
    role: str = "clerk"
    # A higher role this order needs, with what to call it then (e.g. a paid order's cancel).
    role_by_order: Callable[[Order], str | None] | None = None
    what_by_order: str = ""
    # False for an action on a part of the order (one refund), not listed with the order.
    listed: bool = True


# In the order the staff API lists them, and so the TUI.
ACTIONS: dict[str, OrderAction] = {
    a.name: a
    for a in (
        OrderAction("note", "a note"),
        OrderAction("confirm_payment", "confirming a bank transfer", _confirm_payment),
        OrderAction("start_picking", "picking", _start_picking),
        OrderAction("ship", "shipping", _ship),
        OrderAction("deliver", "delivery", lambda o: transition_refusal(o, "delivered")),
        OrderAction(
            "complete",
            "completing an order",
            # return_requested → completed exists too, but only as the rejection of a return.
            _status_is("delivered", "completed", "an order that is {} cannot be completed"),
        ),
        OrderAction(
            "cancel",
            "cancelling an order",
            lambda o: transition_refusal(o, "cancelled"),
            role_by_order=_cancel_role,
            what_by_order="cancelling a paid order",
        ),
        OrderAction("request_return", "recording a return", _request_return),
        OrderAction(
            "receive_return",
            "receiving a return",
            _status_is(
                "return_requested", "returned", "an order that is {} has no return to receive"
            ),
        ),
        OrderAction(
            "reject_return",
            "rejecting a return",
            _status_is(
                "return_requested", "completed", "an order that is {} has no return to reject"
            ),
            role="manager",
        ),
        OrderAction(
            "refund",
            "refund",
            _status_is(
                "returned",
                "refunded",
                "an order that is {} cannot be refunded; receive the return first",
            ),
            role="manager",
        ),
        OrderAction("edit_contact", "changing the address", _edit_contact),
        OrderAction("print", "printing the packing slip", _print),
        OrderAction("settle_refund", "settling a refund", role="manager", listed=False),
    )
}


def role_of(name: str) -> str:
    """The lowest role the action's endpoint serves (its ``opt={"role": ...}``)."""
    return ACTIONS[name].role


def _role_refusal(role: str, minimum: str, what: str) -> Forbidden | None:
    if ROLE_RANK[role] >= ROLE_RANK[minimum]:
        return None
    return Forbidden(
        f"{what} needs the {minimum} role",
        code="forbidden",
        details={"required_role": minimum, "your_role": role},
    )


def refusal(order: Order, role: str, name: str) -> DomainError | None:
    """Why a staff member of ``role`` may not do ``name`` on this order now, or None.

    The role comes first, as the guard checks it before anything else."""
    action = ACTIONS[name]
    refused = _role_refusal(role, action.role, action.what)
    if refused is None and action.role_by_order is not None:
        finer = action.role_by_order(order)
        if finer is not None:
            refused = _role_refusal(role, finer, action.what_by_order or action.what)
    if refused is None and action.state is not None:
        refused = action.state(order)
    return refused


def require_role(actor: Actor, name: str) -> None:
    """Refuse a staff member below the action's role before its input is even read."""
    action = ACTIONS[name]
    refused = _role_refusal(actor.role, action.role, action.what)
    if refused is not None:
        raise refused


def check(order: Order, actor: Actor, name: str) -> None:
    """Raise the refusal of ``name`` on this order for this actor, if there is one."""
    refused = refusal(order, actor.role, name)
    if refused is not None:
        raise refused


def refusals(order: Order, role: str) -> dict[str, DomainError | None]:
    """Every listed action on this order for ``role``: None where allowed, else the error its
    endpoint would answer with."""
    return {name: refusal(order, role, name) for name, a in ACTIONS.items() if a.listed}
