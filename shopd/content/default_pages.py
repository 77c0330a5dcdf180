"""The service-center pages a new shop starts with, in its three languages; staff rewrite them.

The row's own ``title`` and ``body`` are the Chinese (the shop's writing, as for the catalog),
English and Spanish are its ``translations``. Migration 0012 brings the pages of shops that
never changed them up to these; it keeps its own copy, as a migration must not change when this
file does.
"""

from __future__ import annotations

# slug → language → (title, body)
DEFAULT_PAGES: dict[str, dict[str, tuple[str, str]]] = {
    "shopping-guide": {
        "zh": (
            "购物指南",
            "1. 按分类或用搜索框找到商品。\n2. 选择尺码或颜色，加入购物车。\n"
            "3. 结算时可免注册下单，请保留订单号。",
        ),
        "en": (
            "Shopping guide",
            "1. Find a product by category or with the search box.\n"
            "2. Choose the size or colour and add it to the cart.\n"
            "3. Check out as a guest or with an account; keep the order number.",
        ),
        "es": (
            "Guía de compra",
            "1. Busque un producto por categoría o con el buscador.\n"
            "2. Elija la talla o el color y añádalo al carrito.\n"
            "3. Finalice la compra como invitado o con una cuenta; guarde el número de pedido.",
        ),
    },
    "service-promise": {
        "zh": ("服务承诺", "所有订单 **24 小时内** 发货，最迟不超过 48 小时。"),
        "en": (
            "Our service promise",
            "Every order leaves our warehouse **within 24 hours**, never later than 48.",
        ),
        "es": (
            "Nuestro compromiso",
            "Cada pedido sale de nuestro almacén **en 24 horas**, nunca más tarde de 48.",
        ),
    },
    "returns": {
        "zh": ("退换货政策", "签收后 **7 天内** 未使用商品可退换，收到退货后 3 天内退款。"),
        "en": (
            "Returns and exchanges",
            "Send goods back unused within **7 days** of delivery; we refund within 3 days of "
            "receiving them.",
        ),
        "es": (
            "Devoluciones y cambios",
            "Devuelva los artículos sin usar en los **7 días** siguientes a la entrega; "
            "reembolsamos en los 3 días siguientes a recibirlos.",
        ),
    },
    "payment": {
        "zh": ("付款方式", "- 货到付款\n- 银行转账（请注明订单号）\n- 在线刷卡支付"),
        "en": (
            "Payment methods",
            "- Cash on delivery\n- Bank transfer (quote the order number)\n- Card online",
        ),
        "es": (
            "Formas de pago",
            "- Contra reembolso\n- Transferencia bancaria (indique el número de pedido)\n"
            "- Tarjeta en línea",
        ),
    },
    "delivery": {
        "zh": ("配送费用与时效", "每单统一运费，满额包邮；国内 1-3 天送达。"),
        "en": (
            "Delivery fees and times",
            "A flat fee per order, **free above the threshold** shown in the cart; 1-3 days "
            "within the country.",
        ),
        "es": (
            "Gastos y plazos de envío",
            "Una tarifa fija por pedido, **gratis a partir del importe** que indica el "
            "carrito; de 1 a 3 días dentro del país.",
        ),
    },
}


def translations_of(slug: str) -> dict[str, dict[str, str]]:
    return {
        lang: {"title": title, "body": body}
        for lang, (title, body) in DEFAULT_PAGES[slug].items()
        if lang != "zh"
    }
