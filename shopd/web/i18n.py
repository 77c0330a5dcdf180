"""Storefront translations: English is the source text; Simplified Chinese and Spanish catalogs.

The shop picks its language (``SHOPD_LANGUAGE``); a customer switches with the language menu,
which sets a cookie. A string missing from a catalog shows in English rather than breaking.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from babel import Locale

from shopd import translations
from shopd.errors import DomainError
from shopd.formatting import LOCALES, format_datetime, format_money, format_number

LANGUAGES = {"en": "English", "zh": "简体中文", "es": "Español"}
LANG_COOKIE = "shopd_lang"

ZH: dict[str, str] = {
    "Home": "首页",
    "Search": "搜索",
    "Search products": "搜索商品",
    "Popular": "热门搜索",
    "Cart": "购物车",
    "Account": "我的账户",
    "Log in": "登录",
    "Log out": "退出",
    "Register": "注册",
    "Order inquiry": "订单查询",
    "Customer service": "客服中心",
    "Guestbook": "留言板",
    "Contact": "联系我们",
    "Announcements": "公告",
    "Featured": "推荐商品",
    "New arrivals": "新品上架",
    "Categories": "商品分类",
    "Sort": "排序",
    "Newest": "最新",
    "Price: low to high": "价格从低到高",
    "Price: high to low": "价格从高到低",
    "Best selling": "销量最高",
    "Previous": "上一页",
    "Next": "下一页",
    "Page": "第",
    "results": "个结果",
    "No products match": "没有找到商品",
    "Did you mean:": "您是不是要找：",
    "Relevance": "相关度",
    "Try a shorter word, or browse one of these categories:": "试试更短的关键词，或浏览以下分类：",
    "Sold out": "已售罄",
    "In stock": "有货",
    "Only {n} left": "仅剩 {n} 件",
    "Add to cart": "加入购物车",
    "Quantity": "数量",
    "Choose": "选择",
    "Description": "商品描述",
    "Reviews": "商品评价",
    "No reviews yet.": "暂无评价。",
    "Shop reply": "店家回复",
    "Write a review": "发表评价",
    "Rating": "评分",
    "Only customers who bought this product can review it.": "只有购买过本商品的顾客才能评价。",
    "Send": "提交",
    "Your cart is empty.": "购物车是空的。",
    "Product": "商品",
    "Price": "单价",
    "Total": "小计",
    "Update": "更新",
    "Remove": "删除",
    "Subtotal": "商品金额",
    "Shipping": "运费",
    "Free": "免运费",
    "Grand total": "应付总额",
    "Check out": "去结算",
    "Checkout": "结算",
    "Delivery address": "收货地址",
    "Recipient": "收货人",
    "Phone": "电话",
    "Region": "省份",
    "City": "城市",
    "Address": "详细地址",
    "Address line 2": "地址补充",
    "Postcode": "邮编",
    "E-mail": "电子邮箱",
    "Payment method": "付款方式",
    "Order note": "订单备注",
    "Place order": "提交订单",
    "Thank you! Your order is placed.": "谢谢！订单已提交。",
    "Order number": "订单号",
    "Keep this number: with your e-mail or phone it finds your order.": "请保留订单号：凭订单号和邮箱或电话即可查询订单。",
    "Pay now": "立即付款",
    "Look up an order": "查询订单",
    "E-mail or phone used at checkout": "下单时填写的邮箱或电话",
    "Find": "查询",
    "Status": "状态",
    "Paid": "已付款",
    "Not paid yet": "未付款",
    "Shipped on": "发货日期",
    "Not shipped yet": "尚未发货",
    "Carrier": "快递公司",
    "Tracking number": "运单号",
    "No order matches this number and contact.": "没有找到与该订单号和联系方式匹配的订单。",
    "Password": "密码",
    "New password": "新密码",
    "Current password": "当前密码",
    "Name": "姓名",
    "Profile": "个人资料",
    "Save": "保存",
    "Addresses": "收货地址",
    "Add address": "添加地址",
    "Change password": "修改密码",
    "Orders": "我的订单",
    "You have no orders yet.": "您还没有订单。",
    "Placed": "下单时间",
    "Print": "打印",
    "Cancel order": "取消订单",
    "Leave a message": "留言",
    "Topic": "主题",
    "Products": "商品",
    "Service": "服务",
    "Delivery": "配送",
    "Message": "留言内容",
    "Your name": "您的称呼",
    "Thank you, your message is posted.": "谢谢，您的留言已发布。",
    "Compare": "比较",
    "Compare products": "商品比较",
    "Newsletter": "订阅资讯",
    "Subscribe": "订阅",
    "Check your mailbox to confirm the subscription.": "请到邮箱确认订阅。",
    "Your subscription is confirmed.": "订阅已确认。",
    "You are unsubscribed.": "您已退订。",
    "Language": "语言",
    "This page could not be found.": "找不到该页面。",
    "The form expired. Go back, reload the page and try again.": "表单已过期，请返回刷新后重试。",
    "Something went wrong on our side.": "我们这边出了点问题。",
}

ES: dict[str, str] = {
    "Home": "Inicio",
    "Search": "Buscar",
    "Search products": "Buscar productos",
    "Popular": "Populares",
    "Cart": "Carrito",
    "Account": "Mi cuenta",
    "Log in": "Iniciar sesión",
    "Log out": "Cerrar sesión",
    "Register": "Registrarse",
    "Order inquiry": "Consultar pedido",
    "Customer service": "Atención al cliente",
    "Guestbook": "Libro de visitas",
    "Contact": "Contacto",
    "Announcements": "Avisos",
    "Featured": "Destacados",
    "New arrivals": "Novedades",
    "Categories": "Categorías",
    "Sort": "Ordenar",
    "Newest": "Más recientes",
    "Price: low to high": "Precio: de menor a mayor",
    "Price: high to low": "Precio: de mayor a menor",
    "Best selling": "Más vendidos",
    "Previous": "Anterior",
    "Next": "Siguiente",
    "Page": "Página",
    "results": "resultados",
    "No products match": "Ningún producto coincide con",
    "Did you mean:": "Quizás quiso decir:",
    "Relevance": "Relevancia",
    "Try a shorter word, or browse one of these categories:": "Pruebe una palabra más corta o explore estas categorías:",
    "Sold out": "Agotado",
    "In stock": "Disponible",
    "Only {n} left": "Solo quedan {n}",
    "Add to cart": "Añadir al carrito",
    "Quantity": "Cantidad",
    "Choose": "Elegir",
    "Description": "Descripción",
    "Reviews": "Opiniones",
    "No reviews yet.": "Todavía no hay opiniones.",
    "Shop reply": "Respuesta de la tienda",
    "Write a review": "Escribir una opinión",
    "Rating": "Valoración",
    "Only customers who bought this product can review it.": "Solo quien compró este producto puede opinar.",
    "Send": "Enviar",
    "Your cart is empty.": "Su carrito está vacío.",
    "Product": "Producto",
    "Price": "Precio",
    "Total": "Total",
    "Update": "Actualizar",
    "Remove": "Quitar",
    "Subtotal": "Subtotal",
    "Shipping": "Envío",
    "Free": "Gratis",
    "Grand total": "Total a pagar",
    "Check out": "Pagar",
    "Checkout": "Finalizar compra",
    "Delivery address": "Dirección de entrega",
    "Recipient": "Destinatario",
    "Phone": "Teléfono",
    "Region": "Provincia",
    "City": "Ciudad",
    "Address": "Dirección",
    "Address line 2": "Dirección (línea 2)",
    "Postcode": "Código postal",
    "E-mail": "Correo electrónico",
    "Payment method": "Forma de pago",
    "Order note": "Nota del pedido",
    "Place order": "Realizar pedido",
    "Thank you! Your order is placed.": "¡Gracias! Su pedido está realizado.",
    "Order number": "Número de pedido",
    "Keep this number: with your e-mail or phone it finds your order.": "Guarde este número: con su correo o teléfono encontrará su pedido.",
    "Pay now": "Pagar ahora",
    "Look up an order": "Buscar un pedido",
    "E-mail or phone used at checkout": "Correo o teléfono usados al comprar",
    "Find": "Buscar",
    "Status": "Estado",
    "Paid": "Pagado",
    "Not paid yet": "Pendiente de pago",
    "Shipped on": "Enviado el",
    "Not shipped yet": "Aún no enviado",
    "Carrier": "Transportista",
    "Tracking number": "Número de seguimiento",
    "No order matches this number and contact.": "Ningún pedido coincide con este número y contacto.",
    "Password": "Contraseña",
    "New password": "Nueva contraseña",
    "Current password": "Contraseña actual",
    "Name": "Nombre",
    "Profile": "Perfil",
    "Save": "Guardar",
    "Addresses": "Direcciones",
    "Add address": "Añadir dirección",
    "Change password": "Cambiar contraseña",
    "Orders": "Pedidos",
    "You have no orders yet.": "Todavía no tiene pedidos.",
    "Placed": "Realizado",
    "Print": "Imprimir",
    "Cancel order": "Cancelar pedido",
    "Leave a message": "Deje un mensaje",
    "Topic": "Tema",
    "Products": "Productos",
    "Service": "Servicio",
    "Delivery": "Entrega",
    "Message": "Mensaje",
    "Your name": "Su nombre",
    "Thank you, your message is posted.": "Gracias, su mensaje está publicado.",
    "Compare": "Comparar",
    "Compare products": "Comparar productos",
    "Newsletter": "Boletín",
    "Subscribe": "Suscribirse",
    "Check your mailbox to confirm the subscription.": "Revise su correo para confirmar la suscripción.",
    "Your subscription is confirmed.": "Su suscripción está confirmada.",
    "You are unsubscribed.": "Se ha dado de baja.",
    "Language": "Idioma",
    "This page could not be found.": "No se encontró esta página.",
    "The form expired. Go back, reload the page and try again.": "El formulario caducó. Vuelva, recargue la página e inténtelo de nuevo.",
    "Something went wrong on our side.": "Algo salió mal por nuestra parte.",
}

# What the storefront says for the error codes a page redirect carries (?error=code).
ERROR_TEXT = {
    "out_of_stock": "Not enough in stock.",
    "not_for_sale": "This item is no longer for sale.",
    "invalid_quantity": "Choose a quantity between 1 and 99.",
    "cart_full": "Your cart is full.",
    "unknown_sku": "Choose a size or colour first.",
    "not_in_cart": "That item is not in your cart.",
    "not_a_buyer": "Only customers who bought this product can review it.",
    "already_reviewed": "You reviewed this product already.",
    "invalid_rating": "A rating is 1 to 5 stars.",
    "invalid_text": "Please use plain text.",
    "missing_field": "Please write something first.",
    "sale_sold_out": "The flash sale has sold out.",
    "sale_limit_reached": "You have bought as many as this flash sale allows.",
    "group_buy_closed": "This group buy is closed.",
}
GENERIC_ERROR = "That did not work. Please try again."
ZH.update(
    {
        "Not enough in stock.": "库存不足。",
        "This item is no longer for sale.": "该商品已下架。",
        "Choose a quantity between 1 and 99.": "请选择 1 到 99 之间的数量。",
        "Your cart is full.": "购物车已满。",
        "Choose a size or colour first.": "请先选择尺码或颜色。",
        "That item is not in your cart.": "购物车中没有该商品。",
        "You reviewed this product already.": "您已评价过该商品。",
        "A rating is 1 to 5 stars.": "评分为 1 到 5 星。",
        "Please use plain text.": "请使用纯文本。",
        "Please write something first.": "请先填写内容。",
        "That did not work. Please try again.": "操作未成功，请重试。",
        "The flash sale has sold out.": "秒杀已抢光。",
        "You have bought as many as this flash sale allows.": "您已达到本次秒杀的限购数量。",
        "Flash sale": "限时秒杀",
        "{n} left at this price": "秒杀价仅剩 {n} 件",
        "Sold out at the sale price": "秒杀价已抢光",
        "Ends {when}": "{when} 结束",
        "{t} left": "剩余 {t}",
        "Limit {n} per customer": "每人限购 {n} 件",
        "Member price": "会员价",
        "Group price": "团购价",
        "Group buy": "拼团",
        "when {n} buyers have paid": "满 {n} 人付款成团",
        "{joined} joined, {paid} paid, {n} needed": "已参团 {joined} 人，已付款 {paid} 人，需 {n} 人",
        "Join the group": "参加拼团",
        "Paid in advance; if the group does not fill by the deadline, your order is cancelled and refunded.": "需预先付款；截止时未成团，订单自动取消并退款。",
        "This group is full.": "该团已满。",
        "Bought together": "经常一起购买",
        "You may also like": "猜你喜欢",
        "Coupon and points": "优惠券与积分",
        "Coupon code": "优惠券码",
        "Points to spend (you have {n}; 100 points = {v})": "使用积分（您有 {n} 积分；100 积分 = {v}）",
        "Apply": "使用",
        "Points": "积分抵扣",
        "Free shipping": "免运费",
        "Coupon": "优惠券",
        "This group buy is closed.": "该拼团已结束。",
        "Membership": "会员",
        "Level": "等级",
        "{n}% off regular prices": "原价 {n}% 折扣",
        "Spend {amount} more to reach {level}.": "再消费 {amount} 即可升级为 {level}。",
        "Date": "日期",
        "Balance": "余额",
    }
)
ES.update(
    {
        "Not enough in stock.": "No hay suficientes existencias.",
        "This item is no longer for sale.": "Este artículo ya no está a la venta.",
        "Choose a quantity between 1 and 99.": "Elija una cantidad entre 1 y 99.",
        "Your cart is full.": "Su carrito está lleno.",
        "Choose a size or colour first.": "Elija primero una talla o un color.",
        "That item is not in your cart.": "Ese artículo no está en su carrito.",
        "You reviewed this product already.": "Ya opinó sobre este producto.",
        "A rating is 1 to 5 stars.": "La valoración es de 1 a 5 estrellas.",
        "Please use plain text.": "Use texto sin formato.",
        "Please write something first.": "Escriba algo primero.",
        "That did not work. Please try again.": "No funcionó. Inténtelo de nuevo.",
        "The flash sale has sold out.": "La oferta relámpago se ha agotado.",
        "You have bought as many as this flash sale allows.": (
            "Ya compró el máximo que permite esta oferta relámpago."
        ),
        "Flash sale": "Oferta relámpago",
        "{n} left at this price": "Quedan {n} a este precio",
        "Sold out at the sale price": "Agotado al precio de oferta",
        "Ends {when}": "Termina {when}",
        "{t} left": "quedan {t}",
        "Limit {n} per customer": "Máximo {n} por cliente",
        "Member price": "Precio de socio",
        "Group price": "Precio de grupo",
        "Group buy": "Compra en grupo",
        "when {n} buyers have paid": "cuando {n} compradores hayan pagado",
        "{joined} joined, {paid} paid, {n} needed": "{joined} unidos, {paid} pagados, {n} necesarios",
        "Join the group": "Unirse al grupo",
        "Paid in advance; if the group does not fill by the deadline, your order is cancelled and refunded.": "Se paga por adelantado; si el grupo no se completa a tiempo, el pedido se cancela y se reembolsa.",
        "This group is full.": "Este grupo está completo.",
        "Bought together": "Comprados juntos",
        "You may also like": "También le puede gustar",
        "Coupon and points": "Cupón y puntos",
        "Coupon code": "Código de cupón",
        "Points to spend (you have {n}; 100 points = {v})": "Puntos a usar (tiene {n}; 100 puntos = {v})",
        "Apply": "Aplicar",
        "Points": "Puntos",
        "Free shipping": "Envío gratis",
        "Coupon": "Cupón",
        "This group buy is closed.": "Esta compra en grupo está cerrada.",
        "Membership": "Socio",
        "Level": "Nivel",
        "{n}% off regular prices": "{n}% de descuento sobre el precio normal",
        "Spend {amount} more to reach {level}.": "Gaste {amount} más para llegar a {level}.",
        "Date": "Fecha",
        "Balance": "Saldo",
    }
)

ZH.update(
    {
        "Forgot your password?": "忘记密码？",
        "We mail a link to set a new one to the address of your account.": "我们会向您账户的邮箱发送设置新密码的链接。",
        "Send the link": "发送链接",
        "Set a new password": "设置新密码",
        "New password": "新密码",
        "Set the password": "设置密码",
        "If the address has an account, a link to set a new password is on its way.": "如果该邮箱已注册，设置新密码的链接已发出。",
        "Your new password is set. Log in with it.": "新密码已设置，请用它登录。",
        "Your data": "您的数据",
        "Download everything we keep about you": "下载我们保存的关于您的全部数据",
        "Erase your account: your orders stay for our accounts, without your name, address or contact.": "注销账户：订单会为记账保留，但不再含有您的姓名、地址和联系方式。",
        "Erase my account": "注销我的账户",
        "Your account is erased.": "您的账户已注销。",
    }
)
ES.update(
    {
        "Forgot your password?": "¿Olvidó su contraseña?",
        "We mail a link to set a new one to the address of your account.": "Le enviamos un enlace para elegir una nueva a la dirección de su cuenta.",
        "Send the link": "Enviar el enlace",
        "Set a new password": "Elegir una nueva contraseña",
        "New password": "Nueva contraseña",
        "Set the password": "Guardar la contraseña",
        "If the address has an account, a link to set a new password is on its way.": "Si la dirección tiene una cuenta, le llega un enlace para elegir una nueva contraseña.",
        "Your new password is set. Log in with it.": "Su nueva contraseña está guardada. Inicie sesión con ella.",
        "Your data": "Sus datos",
        "Download everything we keep about you": "Descargar todo lo que guardamos sobre usted",
        "Erase your account: your orders stay for our accounts, without your name, address or contact.": "Borrar su cuenta: sus pedidos se conservan para la contabilidad, sin su nombre, dirección ni contacto.",
        "Erase my account": "Borrar mi cuenta",
        "Your account is erased.": "Su cuenta ha sido borrada.",
    }
)

# What the areas write (statuses, payment methods, mail) is translated in core; a page
# and a mail name a status alike.
for _language, _catalog in (("zh", ZH), ("es", ES)):
    for _text, _translated in translations.CATALOGS[_language].items():
        _catalog.setdefault(_text, _translated)

CATALOGS: dict[str, dict[str, str]] = {"en": {}, "zh": ZH, "es": ES}


def error_text(code: str | None) -> str:
    return ERROR_TEXT.get(code or "", GENERIC_ERROR)


def translator(lang: str) -> Callable[..., str]:
    return translations.translator(lang, CATALOGS)


# Texts that change with a number: the English (singular, plural) pair → the language's text for
# each of CLDR's plural categories it has ("other" always). English needs no entry.
PLURALS: dict[str, dict[tuple[str, str], dict[str, str]]] = {
    "zh": {
        ("{n} result", "{n} results"): {"other": "{n} 个结果"},
    },
    "es": {
        ("{n} result", "{n} results"): {"one": "{n} resultado", "other": "{n} resultados"},
    },
}


@lru_cache(maxsize=8)
def _plural_rule(lang: str) -> Any:
    return Locale.parse(LOCALES.get(lang, LOCALES["en"])).plural_form


def plural_translator(lang: str) -> Callable[..., str]:
    """``ngettext(singular, plural, n, **values)``: the form the language uses for ``n``
    (Babel's CLDR plural rules: 1 result, 2 results; 1 resultado; 个结果 for every number),
    with ``{n}`` written as the language writes numbers."""
    rule = _plural_rule(lang)
    texts = PLURALS.get(lang, {})

    def ngettext(singular: str, plural: str, n: int, **values: Any) -> str:
        category = rule(n)
        forms = texts.get((singular, plural))
        if forms is not None:
            text = forms.get(category, forms["other"])
        else:
            text = singular if category == "one" else plural
        return text.format(n=format_number(n, lang), **values)

    return ngettext


def choose(cookie: str | None, query: str | None, default: str) -> str:
    for candidate in (query, cookie, default):
        if candidate in LANGUAGES:
            return candidate  # type: ignore[return-value]
    return "en"


ZH.update(
    {
        "This address asks for something the page cannot show. Check the link.": "该网址请求的内容无法显示，请检查链接。",
        "That is more than the shop accepts at once.": "内容超出了本店一次能接收的大小。",
        "Too many requests. Please wait a moment and try again.": "请求过于频繁，请稍候再试。",
        "The shop is busy. Please try again in a moment.": "商店正忙，请稍后再试。",
    }
)
ES.update(
    {
        "This address asks for something the page cannot show. Check the link.": "Esta dirección pide algo que la página no puede mostrar. Revise el enlace.",
        "That is more than the shop accepts at once.": "Es más de lo que la tienda acepta de una vez.",
        "Too many requests. Please wait a moment and try again.": "Demasiadas solicitudes. Espere un momento e inténtelo de nuevo.",
        "The shop is busy. Please try again in a moment.": "La tienda está ocupada. Inténtelo de nuevo en un momento.",
    }
)

# SKU options as the demo stores them (in English; a shop's own options show as staff wrote
# them unless added here).
OPTION_NAMES = ("Black", "White", "Navy", "Oat", "Forest green", "1.5 m bed", "1.8 m bed")
ZH.update(
    {
        "Black": "黑色",
        "White": "白色",
        "Navy": "藏青",
        "Oat": "燕麦",
        "Forest green": "墨绿",
        "1.5 m bed": "1.5米床",
        "1.8 m bed": "1.8米床",
    }
)
ES.update(
    {
        "Black": "negro",
        "White": "blanco",
        "Navy": "azul marino",
        "Oat": "avena",
        "Forest green": "verde bosque",
        "1.5 m bed": "cama de 1,5 m",
        "1.8 m bed": "cama de 1,8 m",
    }
)

ZH.update(
    {
        "Bank transfer": "银行转账",
    }
)
ES.update(
    {
        "Bank transfer": "Transferencia bancaria",
    }
)

ZH.update(
    {
        "Shop {shop} online: browse the catalogue, order, and follow your delivery.": "{shop} 网上商店：浏览商品、下单并跟踪配送。",
        "{category} at {shop}: prices, sizes and what is in stock.": "{shop} 的{category}：价格、规格与库存。",
    }
)
ES.update(
    {
        "Shop {shop} online: browse the catalogue, order, and follow your delivery.": "Compre en {shop}: vea el catálogo, haga su pedido y siga la entrega.",
        "{category} at {shop}: prices, sizes and what is in stock.": "{category} en {shop}: precios, tallas y existencias.",
    }
)

# The demo's campaign titles (a title staff write shows as they wrote it).
CAMPAIGN_TITLES = ("Three buyers fill the group",)
ZH.update({"Three buyers fill the group": "三人成团"})
ES.update({"Three buyers fill the group": "Tres compradores completan el grupo"})

# Membership level names: the base level and the demo's ladder (a level staff name otherwise
# shows as they wrote it).
ZH.update({"member": "普通会员", "silver": "银卡", "gold": "金卡", "diamond": "钻石卡"})
ES.update({"member": "socio", "silver": "plata", "gold": "oro", "diamond": "diamante"})
LEVEL_NAMES = ("member", "silver", "gold", "diamond")

# A domain error beside a form field, by its code, in the visitor's words. ``{name}`` fields
# come from the error's details; amounts in them are written as money, times on the shop's
# clock (``explain`` does it, told which details are which).
DOMAIN_TEXT: dict[str, str] = {
    "coupon_not_found": "Coupon {coupon} does not exist or was withdrawn.",
    "coupon_not_started": "Coupon {coupon} is valid from {starts_at}.",
    "coupon_expired": "Coupon {coupon} has expired.",
    "coupon_used_up": "Coupon {coupon} has been used up.",
    "coupon_limit_reached": "Coupon {coupon} can be used {limit} times per customer.",
    "coupon_min_spend": "Coupon {coupon} needs a spend of {min_spend} on the goods it covers.",
    "coupon_not_stackable": "These coupons cannot be used together.",
    "coupon_repeated": "Each coupon can be used once per order.",
    "too_many_coupons": "Too many coupons for one order.",
    "insufficient_points": "You do not have that many points.",
    "points_need_account": "Log in to spend points.",
    "invalid_payment_method": "Choose a payment method.",
    "invalid_email": "That is not a valid e-mail address.",
    "invalid_phone": "That is not a valid phone number.",
    "email_taken": "An account with this e-mail address exists already.",
    "weak_password": "Choose a longer password.",
    "invalid_password": "The password is too long.",
    "invalid_credentials": "The e-mail address or password is wrong.",
    "too_many_attempts": "Too many attempts; please try again later.",
    "missing_field": "Please fill this in.",
    "too_long": "This is too long (at most {max_length} characters).",
    "cart_empty": "Your cart is empty.",
    "price_changed": "Sorry, the price changed since it was shown: the total is now {total}.",
    "group_buy_limit": "You have joined this group as often as it allows.",
    "group_buy_joined": "You have joined this group already.",
    "too_many_addresses": "You have saved as many addresses as an account may keep.",
    "invalid_reset_token": "This link has expired or was used already; ask for a new one.",
    "orders_in_progress": "Some orders still need your address; ask again once they are delivered.",
    "invalid_topic": "Choose a topic.",
    "invalid_token": "This link is not valid.",
}
# Details that are amounts (minor units) and moments (ISO text).
MONEY_DETAILS = ("min_spend", "total", "spend", "expected")
TIME_DETAILS = ("starts_at", "ended_at")

ZH.update(
    {
        "Coupon {coupon} does not exist or was withdrawn.": "优惠券 {coupon} 不存在或已停用。",
        "Coupon {coupon} is valid from {starts_at}.": "优惠券 {coupon} 自 {starts_at} 起可用。",
        "Coupon {coupon} has expired.": "优惠券 {coupon} 已过期。",
        "Coupon {coupon} has been used up.": "优惠券 {coupon} 已被领完。",
        "Coupon {coupon} can be used {limit} times per customer.": "优惠券 {coupon} 每人限用 {limit} 次。",
        "Coupon {coupon} needs a spend of {min_spend} on the goods it covers.": "优惠券 {coupon} 需适用商品满 {min_spend} 才能使用。",
        "These coupons cannot be used together.": "这些优惠券不能同时使用。",
        "Each coupon can be used once per order.": "每张优惠券每单限用一次。",
        "Too many coupons for one order.": "一个订单使用的优惠券过多。",
        "You do not have that many points.": "您的积分不足。",
        "Log in to spend points.": "登录后才能使用积分。",
        "Choose a payment method.": "请选择付款方式。",
        "That is not a valid e-mail address.": "邮箱地址无效。",
        "That is not a valid phone number.": "电话号码无效。",
        "An account with this e-mail address exists already.": "该邮箱已注册。",
        "Choose a longer password.": "请设置更长的密码。",
        "The password is too long.": "密码过长。",
        "The e-mail address or password is wrong.": "邮箱或密码错误。",
        "Too many attempts; please try again later.": "尝试次数过多，请稍后再试。",
        "Please fill this in.": "请填写此项。",
        "This is too long (at most {max_length} characters).": "内容过长（最多 {max_length} 个字符）。",
        "Sorry, the price changed since it was shown: the total is now {total}.": "抱歉，价格在显示后有变动：现在的应付总额为 {total}。",
        "You have joined this group as often as it allows.": "您参加该拼团的次数已达上限。",
        "You have joined this group already.": "您已参加该拼团。",
        "You have saved as many addresses as an account may keep.": "您保存的地址已达上限。",
        "This link has expired or was used already; ask for a new one.": "该链接已过期或已被使用，请重新申请。",
        "Some orders still need your address; ask again once they are delivered.": "仍有订单需要您的地址，请在送达后再申请。",
        "Choose a topic.": "请选择主题。",
        "This link is not valid.": "该链接无效。",
    }
)
ES.update(
    {
        "Coupon {coupon} does not exist or was withdrawn.": "El cupón {coupon} no existe o fue retirado.",
        "Coupon {coupon} is valid from {starts_at}.": "El cupón {coupon} es válido desde {starts_at}.",
        "Coupon {coupon} has expired.": "El cupón {coupon} ha caducado.",
        "Coupon {coupon} has been used up.": "El cupón {coupon} se ha agotado.",
        "Coupon {coupon} can be used {limit} times per customer.": "El cupón {coupon} se puede usar {limit} veces por cliente.",
        "Coupon {coupon} needs a spend of {min_spend} on the goods it covers.": "El cupón {coupon} requiere un gasto de {min_spend} en los artículos que cubre.",
        "These coupons cannot be used together.": "Estos cupones no se pueden combinar.",
        "Each coupon can be used once per order.": "Cada cupón se puede usar una vez por pedido.",
        "Too many coupons for one order.": "Demasiados cupones para un pedido.",
        "You do not have that many points.": "No tiene tantos puntos.",
        "Log in to spend points.": "Inicie sesión para usar puntos.",
        "Choose a payment method.": "Elija una forma de pago.",
        "That is not a valid e-mail address.": "Esa dirección de correo no es válida.",
        "That is not a valid phone number.": "Ese número de teléfono no es válido.",
        "An account with this e-mail address exists already.": "Ya existe una cuenta con esta dirección de correo.",
        "Choose a longer password.": "Elija una contraseña más larga.",
        "The password is too long.": "La contraseña es demasiado larga.",
        "The e-mail address or password is wrong.": "El correo o la contraseña son incorrectos.",
        "Too many attempts; please try again later.": "Demasiados intentos. Espere un momento e inténtelo de nuevo.",
        "Please fill this in.": "Rellene este campo.",
        "This is too long (at most {max_length} characters).": "Es demasiado largo (máximo {max_length} caracteres).",
        "Sorry, the price changed since it was shown: the total is now {total}.": "Lo sentimos, el precio cambió desde que se mostró: el total ahora es {total}.",
        "You have joined this group as often as it allows.": "Ya se unió a este grupo tantas veces como permite.",
        "You have joined this group already.": "Ya se unió a este grupo.",
        "You have saved as many addresses as an account may keep.": "Ya guardó tantas direcciones como permite una cuenta.",
        "This link has expired or was used already; ask for a new one.": "Este enlace caducó o ya se usó; pida uno nuevo.",
        "Some orders still need your address; ask again once they are delivered.": "Algunos pedidos aún necesitan su dirección; vuelva a pedirlo cuando se entreguen.",
        "Choose a topic.": "Elija un tema.",
        "This link is not valid.": "Este enlace no es válido.",
    }
)


def explain(exc: DomainError, lang: str, currency: str, timezone: str) -> str:
    """A domain error as the visitor reads it: its code's text in their language, with money
    as money and moments on the shop's clock. A code without a text of its own reads as the
    error code's ``ERROR_TEXT``, else the generic "that did not work"."""
    gettext = translator(lang)
    text = DOMAIN_TEXT.get(exc.code)
    if text is None:
        if exc.code not in ERROR_TEXT and lang == "en" and exc.message:
            # The services write English: an English page may show the message itself
            # rather than lose what it says (other languages get the generic text).
            return exc.message[0].upper() + exc.message[1:]
        return gettext(ERROR_TEXT.get(exc.code, GENERIC_ERROR))
    values: dict[str, Any] = {}
    for key, value in exc.details.items():
        if key in MONEY_DETAILS and isinstance(value, int):
            values[key] = format_money(value, currency, lang)
        elif key in TIME_DETAILS and isinstance(value, str):
            try:
                values[key] = format_datetime(dt.datetime.fromisoformat(value), timezone)
            except ValueError:
                values[key] = value
        else:
            values[key] = value
    try:
        return gettext(text, **values)
    except (KeyError, IndexError):  # a detail the text names is missing: say it plainly
        return gettext(ERROR_TEXT.get(exc.code, GENERIC_ERROR))
