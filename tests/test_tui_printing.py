"""Packing slips and the picking list as a packer and a courier read them: the shop and where
parcels come back to, the cash a courier collects, long names kept in their column, and the
order showing afterwards that its slip was printed."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from shopd.config import Settings
from shopd.db import Database
from tests.conftest import SmallCatalog
from tests.staffkit import Staff, make_staff, place_order, staff_call
from tests.tuikit import detail, fill_dialog, go_tab, log_in, message, open_order, press, rows, tui
from tui import printing

TZ = ZoneInfo("Asia/Shanghai")
LONG_EN = "Hand-thrown stoneware breakfast bowl with a celadon glaze and a wide foot ring"
LONG_ZH = "宜兴原矿紫砂壶手工制作西施壶朱泥大红袍容量二百二十毫升附赠茶杯四只"


@pytest.fixture
async def staff(client: httpx.AsyncClient, db: Database) -> Staff:
    return await make_staff(client, db)


async def test_a_cod_slip_says_what_to_collect_names_the_shop_and_the_order_shows_printed(
    client: httpx.AsyncClient,
    db: Database,
    settings: Settings,
    catalog: SmallCatalog,
    staff: Staff,
    tmp_path: Path,
) -> None:
    order = await place_order(client, catalog.sku_m, payment_method="cod")
    r = await staff_call(client, staff.clerk, "start_picking", order)
    assert r.status_code == 200, r.text
    shop = settings.model_copy(
        update={"shop_name": "山间陶舍", "return_address": "杭州市西湖区文三路 8 号 退货部 310000"}
    )
    app = tui(db, shop)
    async with app.run_test(size=(80, 24)) as pilot:
        await log_in(app, pilot, "clerk.one")
        table = await go_tab(app, pilot, "orders")
        table.move_cursor(row=rows(table).index(order["number"]))
        await press(app, pilot, "w")
        await fill_dialog(app, pilot, {"format": "txt", "folder": str(tmp_path)})
        assert "1 marked printed" in message(app)
        slip = written(tmp_path).split("\f")[1]
        assert slip.startswith("山间陶舍\n  returns to: 杭州市西湖区文三路 8 号 退货部 310000\n")
        assert "questions: service@example.com" in slip
        assert "*** CASH ON DELIVERY: COLLECT CNY 89.00 ***" in slip
        assert "(reprint" not in slip
        # The order says its slip is printed (the server froze its address then).
        await open_order(app, pilot, str(order["number"]))
        assert "slip printed" in detail(app)

        await press(app, pilot, "escape")
        table.move_cursor(row=rows(table).index(order["number"]))
        await press(app, pilot, "w")
        await fill_dialog(app, pilot, {"format": "txt", "folder": str(tmp_path / "again")})
        assert "(reprint: first printed" in written(tmp_path / "again")


def written(folder: Path) -> str:
    (path,) = folder.glob("packing-*.txt")
    return path.read_text(encoding="utf-8")


def test_a_paid_slip_has_nothing_to_collect() -> None:
    o = slip_order("cod", paid=True)
    assert not any("COLLECT" in line for line in printing.packing_slip(o, TZ))
    o = slip_order("bank_transfer", paid=False)
    assert not any("COLLECT" in line for line in printing.packing_slip(o, TZ))


def slip_order(method: str, *, paid: bool) -> dict[str, object]:
    return {
        "number": "20261122-ABCDEFGHJK",
        "placed_at": "2026-11-22T02:00:00+00:00",
        "paid_at": "2026-11-22T02:05:00+00:00" if paid else None,
        "printed_at": None,
        "payment_method": method,
        "total": 8900,
        "refunded_total": 0,
        "currency": "CNY",
        "note": "",
        "ship_to": {
            "recipient": "王小明",
            "phone": "+86 138 0013 8000",
            "region": "浙江省",
            "city": "杭州市",
            "line1": "西湖区文三路 100 号 浙江大学科技园 B 座 12 楼 1203 室 收发室转交 请工作日送达 周末无人",
            "line2": "",
            "postcode": "310000",
        },
        "items": [
            {"sku": "BOWL-CELADON-XL-2026", "name": LONG_EN, "attributes": {}, "quantity": 1},
            {"sku": "POT-1", "name": LONG_ZH, "attributes": {"容量": "220ml"}, "quantity": 2},
        ],
    }


def test_long_names_wrap_inside_their_column_and_never_run_into_the_next() -> None:
    o = slip_order("cod", paid=False)
    other = {**o, "number": "20261122-ZZZZZZZZZZ"}
    out = printing.picking_list([o, other], TZ, dt.datetime(2026, 11, 22, 2, tzinfo=dt.UTC))
    body = out[3:-2]
    # The orders column starts in the same cell on each SKU's line, and no name reaches into
    # it: the rest of a name is on the lines below, inside the name's column.
    orders_at = printing.QTY + printing.SKU + printing.ITEM
    for line in body:
        if "20261122-" in line:
            cells = printing.cell_len(line[: line.index("20261122-")])
            assert cells == orders_at, line
            assert line.endswith("20261122-ABCDEFGHJK, 20261122-ZZZZZZZZZZ")
        else:
            assert printing.cell_len(line) <= orders_at, line
    names = re.sub(r"20261122-\w+,?", "", " ".join(body))
    for word in LONG_EN.split():
        assert word in names
    assert "附赠茶杯四只" in names.replace(" ", "")
    # The long SKU is cut with an ellipsis inside its column, not run into the name.
    bowl = next(line for line in body if line.lstrip().startswith("2  BOWL"))
    assert bowl.split()[1].endswith("…") and printing.cell_len(bowl.split()[1]) == 15

    slip = printing.packing_slip(o, TZ, {"name": "S", "return_address": "", "contact_email": ""})
    assert all(printing.cell_len(line) <= printing.WIDTH for line in slip)
    first = next(i for i, line in enumerate(slip) if "Hand-thrown" in line)
    assert slip[first + 1].startswith(" " * (printing.QTY + printing.SKU))
    assert "returns to" not in "\n".join(slip)
    # A long address line breaks at a space, under the first.
    address = slip.index(
        "         西湖区文三路 100 号 浙江大学科技园 B 座 12 楼 1203 室 收发室转交"
    )
    assert slip[address + 1 : address + 3] == ["         请工作日送达 周末无人", "         310000"]
