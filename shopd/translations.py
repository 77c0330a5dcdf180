"""Texts the shop writes for customers outside the storefront's templates — the order mails,
order statuses, payment methods — with their Simplified Chinese and Spanish catalogs.

English is the source text. The areas (the mail outbox) translate through here, and the
storefront's catalogs (``shopd.web.i18n``) include these, so a status reads the same on a
page and in a mail. A text missing from a catalog shows in English rather than breaking;
``tests/test_translations.py`` extracts every marked text with Babel and fails on a missing one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

LANGUAGES = ("en", "zh", "es")


def N_(text: str) -> str:
    """Marks a text for extraction (Babel's default keywords include ``N_``) without
    translating it where it is defined."""
    return text


PAYMENT_METHOD_NAMES: dict[str, str] = {
    "cod": N_("Cash on delivery"),
    "bank_transfer": N_("Bank transfer"),
    "card": N_("Online card payment"),
}

STATUS_NAMES: dict[str, str] = {
    "pending_payment": N_("Awaiting payment"),
    "paid": N_("Paid"),
    "picking": N_("Being packed"),
    "shipped": N_("Shipped"),
    "delivered": N_("Delivered"),
    "completed": N_("Completed"),
    "cancelled": N_("Cancelled"),
    "return_requested": N_("Return requested"),
    "returned": N_("Returned"),
    "refunded": N_("Refunded"),
}

ZH: dict[str, str] = {
    "Cash on delivery": "货到付款",
    "Bank transfer": "银行转账",
    "Online card payment": "在线支付",
    "Awaiting payment": "待付款",
    "Paid": "已付款",
    "Being packed": "备货中",
    "Shipped": "已发货",
    "Delivered": "已送达",
    "Completed": "已完成",
    "Cancelled": "已取消",
    "Return requested": "退货申请中",
    "Returned": "已退货",
    "Refunded": "已退款",
    # The order mails.
    "[{shop}] Order {number} received": "[{shop}] 订单 {number} 已提交",
    "Thank you for your order {number}, total {total}.": "感谢您的订购！订单号 {number}，合计 {total}。",
    "Please quote the order number with your transfer.": "转账时请在附言中写上订单号。",
    "[{shop}] Payment received for {number}": "[{shop}] 已收到订单 {number} 的付款",
    "We received {total} for order {number}; it ships within 24 hours.": "我们已收到订单 {number} 的付款 {total}，将在 24 小时内发货。",
    "[{shop}] Order {number} shipped": "[{shop}] 订单 {number} 已发货",
    "Order {number} left with {carrier}, tracking number {tracking}.": "订单 {number} 已由 {carrier} 发出，运单号 {tracking}。",
    "[{shop}] Refund for {number}": "[{shop}] 订单 {number} 退款",
    "We refunded {amount} for order {number}.": "订单 {number} 已退款 {amount}。",
    "[{shop}] Order {number} cancelled": "[{shop}] 订单 {number} 已取消",
    "Order {number} was cancelled.": "订单 {number} 已取消。",
    "Your order: {link}": "查看订单：{link}",
    "Placed: {when}": "下单时间：{when}",
    "Payment method: {method}": "付款方式：{method}",
    "Pay by bank transfer to:": "请转账至：",
    "Write to {email} for the shop's bank details.": "请发邮件至 {email} 索取本店银行账户信息。",
    # Password reset and newsletter mails.
    "Someone (we hope you) asked to set a new password for {email} at {shop}.": "有人（希望是您本人）为 {shop} 的账户 {email} 申请设置新密码。",
    "Set it here within {minutes} minutes; the link works once:": "请在 {minutes} 分钟内通过以下链接设置，链接仅可使用一次：",
    "If it was not you, do nothing: your password stays as it is.": "如果不是您本人操作，请忽略本邮件，您的密码不会改变。",
    "{shop}: set a new password": "{shop}：设置新密码",
    "[{shop}] Please confirm your subscription": "[{shop}] 请确认订阅",
    "Confirm: {link}": "确认订阅：{link}",
    "Not you? Ignore this mail, or: {link}": "不是您本人？请忽略本邮件，或退订：{link}",
    "An unpaid order is kept for {hours} hours, until {when}; after that it is cancelled.": "未付款订单保留 {hours} 小时，至 {when}；逾期自动取消。",
}

ES: dict[str, str] = {
    "Cash on delivery": "Contra reembolso",
    "Bank transfer": "Transferencia bancaria",
    "Online card payment": "Pago con tarjeta en línea",
    "Awaiting payment": "Pendiente de pago",
    "Paid": "Pagado",
    "Being packed": "En preparación",
    "Shipped": "Enviado",
    "Delivered": "Entregado",
    "Completed": "Completado",
    "Cancelled": "Cancelado",
    "Return requested": "Devolución solicitada",
    "Returned": "Devuelto",
    "Refunded": "Reembolsado",
    "[{shop}] Order {number} received": "[{shop}] Pedido {number} recibido",
    "Thank you for your order {number}, total {total}.": "Gracias por su pedido {number}, total {total}.",
    "Please quote the order number with your transfer.": "Indique el número de pedido en su transferencia.",
    "[{shop}] Payment received for {number}": "[{shop}] Pago recibido del pedido {number}",
    "We received {total} for order {number}; it ships within 24 hours.": "Recibimos {total} del pedido {number}; se envía en 24 horas.",
    "[{shop}] Order {number} shipped": "[{shop}] Pedido {number} enviado",
    "Order {number} left with {carrier}, tracking number {tracking}.": "El pedido {number} salió con {carrier}, número de seguimiento {tracking}.",
    "[{shop}] Refund for {number}": "[{shop}] Reembolso del pedido {number}",
    "We refunded {amount} for order {number}.": "Reembolsamos {amount} del pedido {number}.",
    "[{shop}] Order {number} cancelled": "[{shop}] Pedido {number} cancelado",
    "Order {number} was cancelled.": "El pedido {number} fue cancelado.",
    "Your order: {link}": "Su pedido: {link}",
    "Placed: {when}": "Realizado: {when}",
    "Payment method: {method}": "Forma de pago: {method}",
    "Pay by bank transfer to:": "Pague por transferencia bancaria a:",
    "Write to {email} for the shop's bank details.": "Escriba a {email} para recibir los datos bancarios de la tienda.",
    "Someone (we hope you) asked to set a new password for {email} at {shop}.": "Alguien (esperamos que usted) pidió una nueva contraseña para {email} en {shop}.",
    "Set it here within {minutes} minutes; the link works once:": "Elíjala aquí en un plazo de {minutes} minutos; el enlace sirve una sola vez:",
    "If it was not you, do nothing: your password stays as it is.": "Si no fue usted, no haga nada: su contraseña sigue igual.",
    "{shop}: set a new password": "{shop}: elija una nueva contraseña",
    "[{shop}] Please confirm your subscription": "[{shop}] Confirme su suscripción",
    "Confirm: {link}": "Confirmar: {link}",
    "Not you? Ignore this mail, or: {link}": "¿No fue usted? Ignore este correo, o: {link}",
    "An unpaid order is kept for {hours} hours, until {when}; after that it is cancelled.": "Un pedido sin pagar se guarda {hours} horas, hasta el {when}; después se cancela.",
}

CATALOGS: dict[str, dict[str, str]] = {"en": {}, "zh": ZH, "es": ES}


def language_or(language: str | None, default: str) -> str:
    """A shop language: ``language`` if it is one, else ``default`` if that is one, else en."""
    for candidate in (language, default):
        if candidate in LANGUAGES:
            return candidate  # type: ignore[return-value]
    return "en"


def translator(language: str, catalogs: dict[str, dict[str, str]] = CATALOGS) -> Callable[..., str]:
    """``_(text, **values)`` in ``language``: the catalog's text (or the English one when it
    has none), with ``{name}`` fields filled in."""
    catalog = catalogs.get(language, {})

    def gettext(text: str, **values: Any) -> str:
        out = catalog.get(text, text)
        return out.format(**values) if values else out

    return gettext


# The language of a translated row's own columns (``name``, ``description``, ``title``,
# ``body``): the shop's own writing. English names have their ``name_en`` column (search reads
# it); every other text in another language is in the row's ``translations``
# ({"es": {"name": …, "description": …}, "en": {"description": …}}).
ORIGINAL_LANGUAGE = "zh"


class Translated:
    """A row with texts per language (series, categories, products, announcements):
    ``text(field, language, shop_language)`` is the text in the visitor's language, else in the
    shop's language, else as the shop wrote it — a page never shows an empty name for a
    missing translation."""

    def _own(self, field: str, language: str) -> str:
        if language == ORIGINAL_LANGUAGE:
            return str(getattr(self, field, "") or "")
        if language == "en" and field == "name" and getattr(self, "name_en", ""):
            return str(self.name_en)  # type: ignore[attr-defined]
        translations = getattr(self, "translations", None) or {}
        return str((translations.get(language) or {}).get(field) or "")

    def text(self, field: str, language: str, shop_language: str) -> str:
        for candidate in (language, shop_language):
            found = self._own(field, candidate)
            if found:
                return found
        return str(getattr(self, field, "") or "")


def payment_method_name(code: str, language: str) -> str:
    return translator(language)(PAYMENT_METHOD_NAMES.get(code, code))


def status_name(code: str, language: str) -> str:
    return translator(language)(STATUS_NAMES.get(code, code))
