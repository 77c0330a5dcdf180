"""The price of an order: one pure function over plain values, so every caller (cart, checkout
page, checkout) gets the same answer and the rules can be tested by properties.

Order of the rules, each on what the previous left:
1. each line's unit price — a flash-sale or group price, else the member price — is given by
   the caller, with ``exempt`` set when a floor-exempt campaign chose it;
2. percent-off coupons, then amount-off coupons, then points, each spread over the lines it
   covers in proportion to what they cost;
3. shipping on what the goods cost after discounts, waived by a free-shipping coupon.

No discount ever takes a line under its floor (a share of the regular price) unless the
discount itself, or the campaign that priced the line, is floor-exempt; nothing goes under 0.
The total is always the sum of the line totals plus shipping.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from shopd.errors import Conflict

COUPON_KINDS = ("amount_off", "percent_off", "free_shipping")


def floor_price(regular: int, floor_percent: int) -> int:
    """The least one unit may be charged: a share of the regular price, rounded up."""
    return math.ceil(regular * floor_percent / 100)


def campaign_price(price: int, regular: int, *, exempt: bool, floor_percent: int) -> int:
    """What a flash sale or group buy charges now; never under the floor unless the campaign is
    exempt (the regular price may have been lowered after the campaign was set up)."""
    if exempt:
        return min(price, regular)
    return min(max(price, floor_price(regular, floor_percent)), regular)


def member_price(regular: int, discount_percent: int, floor_percent: int) -> int:
    """The member price: the level's discount, rounded in the shop's favour, never under the
    floor (a member discount is never exempt)."""
    if discount_percent <= 0:
        return regular
    price = math.ceil(regular * (100 - discount_percent) / 100)
    return min(regular, max(price, floor_price(regular, floor_percent)))


@dataclass(slots=True)
class PriceLine:
    """One cart line as pricing sees it."""

    sku: str
    product_id: int
    category_id: int
    regular: int
    unit: int
    quantity: int
    # A floor-exempt flash sale or group buy set ``unit``: the floor is what it charges.
    exempt: bool = False


@dataclass(frozen=True, slots=True)
class Offer:
    """A coupon as pricing sees it (validity and caps are checked by the coupon service)."""

    code: str
    kind: str
    value: int
    min_spend: int = 0
    product_ids: frozenset[int] = frozenset()
    category_ids: frozenset[int] = frozenset()
    stackable: bool = False
    floor_exempt: bool = False

    def covers(self, line: PriceLine) -> bool:
        if not self.product_ids and not self.category_ids:
            return True
        return line.product_id in self.product_ids or line.category_id in self.category_ids


@dataclass(slots=True)
class QuotedLine:
    line: PriceLine
    discount: int = 0
    # The least this line may cost after non-exempt discounts.
    floor: int = 0

    @property
    def gross(self) -> int:
        return self.line.unit * self.line.quantity

    @property
    def total(self) -> int:
        return self.gross - self.discount


@dataclass(slots=True)
class Applied:
    kind: str  # coupon | points | free_shipping
    code: str
    amount: int


@dataclass(slots=True)
class Quote:
    lines: list[QuotedLine]
    shipping_fee: int
    applied: list[Applied] = field(default_factory=list)
    points_used: int = 0

    @property
    def subtotal(self) -> int:
        """The goods at their unit prices, before coupons and points."""
        return sum(q.gross for q in self.lines)

    @property
    def discount(self) -> int:
        return sum(q.discount for q in self.lines)

    @property
    def total(self) -> int:
        return sum(q.total for q in self.lines) + self.shipping_fee


def _spread(targets: list[QuotedLine], amount: int, exempt: bool) -> int:
    """Take up to ``amount`` off ``targets`` in proportion to what they cost now, none under
    its floor (or 0 when exempt); returns what was taken. Largest remainders get the odd fen,
    and what one line cannot take passes to the others."""
    taken = 0
    while amount - taken > 0:
        room = {id(q): q.total - (0 if exempt else min(q.floor, q.total)) for q in targets}
        open_lines = [q for q in targets if room[id(q)] > 0]
        if not open_lines:
            break
        want = amount - taken
        base = sum(q.total for q in open_lines)
        shares = [(q, want * q.total // base, want * q.total % base) for q in open_lines]
        left = want - sum(s for _, s, _ in shares)
        ranked = sorted(shares, key=lambda s: s[2], reverse=True)
        step = 0
        for i, (q, share, _) in enumerate(ranked):
            share += 1 if i < left else 0
            cut = min(share, room[id(q)])
            q.discount += cut
            step += cut
        if step == 0:
            break
        taken += step
    return taken


def quote(
    lines: Sequence[PriceLine],
    *,
    floor_percent: int,
    shipping_fee: Callable[[int], int],
    offers: Sequence[Offer] = (),
    points: int = 0,
) -> Quote:
    """Price ``lines`` with ``offers`` (coupons) and up to ``points`` points (1 point = one
    minor unit). Raises ``Conflict`` for coupons that may not be combined or whose minimum
    spend is not met; points beyond what the floors allow are simply not used."""
    quoted = []
    for ln in lines:
        floor = floor_price(ln.regular, floor_percent) * ln.quantity
        gross = ln.unit * ln.quantity
        quoted.append(QuotedLine(ln, floor=min(floor, gross) if ln.exempt else floor))
    if len(offers) > 1 and not all(o.stackable for o in offers):
        alone = next(o for o in offers if not o.stackable)
        raise Conflict(
            f"coupon {alone.code} cannot be combined with other coupons",
            code="coupon_not_stackable",
            details={"coupon": alone.code},
        )
    if len({o.code for o in offers}) != len(offers):
        raise Conflict("each coupon can be used once per order", code="coupon_repeated")
    result = Quote(quoted, 0)
    free_shipping = False
    rank = {"percent_off": 0, "amount_off": 1, "free_shipping": 2}
    for offer in sorted(offers, key=lambda o: (rank[o.kind], o.code)):
        covered = [q for q in quoted if offer.covers(q.line)]
        spend = sum(q.total for q in covered)
        if not covered or spend < offer.min_spend:
            raise Conflict(
                f"coupon {offer.code} needs a spend of {offer.min_spend} on the goods it covers",
                code="coupon_min_spend",
                details={"coupon": offer.code, "min_spend": offer.min_spend, "spend": spend},
            )
        if offer.kind == "free_shipping":
            free_shipping = True
            result.applied.append(Applied("free_shipping", offer.code, 0))
            continue
        want = offer.value if offer.kind == "amount_off" else spend * offer.value // 100
        got = _spread(covered, min(want, spend), offer.floor_exempt)
        result.applied.append(Applied("coupon", offer.code, got))
    if points > 0:
        used = _spread(quoted, points, exempt=False)
        result.points_used = used
        if used:
            result.applied.append(Applied("points", "", used))
    goods = sum(q.total for q in quoted)
    full_fee = shipping_fee(goods)
    result.shipping_fee = 0 if free_shipping else full_fee
    for applied in result.applied:
        if applied.kind == "free_shipping":
            applied.amount = full_fee
    return result
