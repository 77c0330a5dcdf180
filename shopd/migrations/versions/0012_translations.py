"""translations for catalog, announcement and help texts, the language an order was placed in

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The service pages 0003 seeded, bilingual in one text, by their title then: a page whose
# title staff never changed gets the Chinese as its own text and English and Spanish as its
# translations (a copy: shopd.content.default_pages may change, a migration must not).
SEEDED_TITLES = {
    "shopping-guide": "Shopping guide · 购物指南",
    "service-promise": "Our service promise · 服务承诺",
    "returns": "Returns and exchanges · 退换货政策",
    "payment": "Payment methods · 付款方式",
    "delivery": "Delivery fees and times · 配送费用与时效",
}
PAGES = {
    "shopping-guide": {
        "zh": [
            "购物指南",
            "1. 按分类或用搜索框找到商品。\n2. 选择尺码或颜色，加入购物车。\n3. 结算时可免注册下单，请保留订单号。",
        ],
        "en": [
            "Shopping guide",
            "1. Find a product by category or with the search box.\n2. Choose the size or colour and add it to the cart.\n3. Check out as a guest or with an account; keep the order number.",
        ],
        "es": [
            "Guía de compra",
            "1. Busque un producto por categoría o con el buscador.\n2. Elija la talla o el color y añádalo al carrito.\n3. Finalice la compra como invitado o con una cuenta; guarde el número de pedido.",
        ],
    },
    "service-promise": {
        "zh": ["服务承诺", "所有订单 **24 小时内** 发货，最迟不超过 48 小时。"],
        "en": [
            "Our service promise",
            "Every order leaves our warehouse **within 24 hours**, never later than 48.",
        ],
        "es": [
            "Nuestro compromiso",
            "Cada pedido sale de nuestro almacén **en 24 horas**, nunca más tarde de 48.",
        ],
    },
    "returns": {
        "zh": ["退换货政策", "签收后 **7 天内** 未使用商品可退换，收到退货后 3 天内退款。"],
        "en": [
            "Returns and exchanges",
            "Send goods back unused within **7 days** of delivery; we refund within 3 days of receiving them.",
        ],
        "es": [
            "Devoluciones y cambios",
            "Devuelva los artículos sin usar en los **7 días** siguientes a la entrega; reembolsamos en los 3 días siguientes a recibirlos.",
        ],
    },
    "payment": {
        "zh": ["付款方式", "- 货到付款\n- 银行转账（请注明订单号）\n- 在线刷卡支付"],
        "en": [
            "Payment methods",
            "- Cash on delivery\n- Bank transfer (quote the order number)\n- Card online",
        ],
        "es": [
            "Formas de pago",
            "- Contra reembolso\n- Transferencia bancaria (indique el número de pedido)\n- Tarjeta en línea",
        ],
    },
    "delivery": {
        "zh": ["配送费用与时效", "每单统一运费，满额包邮；国内 1-3 天送达。"],
        "en": [
            "Delivery fees and times",
            "A flat fee per order, **free above the threshold** shown in the cart; 1-3 days within the country.",
        ],
        "es": [
            "Gastos y plazos de envío",
            "Una tarifa fija por pedido, **gratis a partir del importe** que indica el carrito; de 1 a 3 días dentro del país.",
        ],
    },
}

TRANSLATED = ("series", "categories", "products", "announcements", "service_pages")


def upgrade() -> None:
    for table in TRANSLATED:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("translations", sa.JSON(), nullable=True))
    pages = sa.table(
        "service_pages",
        sa.column("slug", sa.String),
        sa.column("title", sa.String),
        sa.column("body", sa.Text),
        sa.column("translations", sa.JSON),
    )
    for slug, title in SEEDED_TITLES.items():
        texts = PAGES[slug]
        op.execute(
            pages.update()
            .where(pages.c.slug == slug, pages.c.title == title)
            .values(
                title=texts["zh"][0],
                body=texts["zh"][1],
                translations={
                    lang: {"title": t, "body": b} for lang, (t, b) in texts.items() if lang != "zh"
                },
            )
        )
    with op.batch_alter_table("orders") as batch:
        batch.add_column(
            sa.Column("language", sa.String(length=8), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("language")
    for table in TRANSLATED:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("translations")
