"""robots.txt and the sitemaps (an index, then one per language with hreflang alternates)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, MediaType, Request, Response, get
from litestar.params import PathParameter
from sqlalchemy import select

from shopd.catalog.cache import CatalogCache, reads
from shopd.catalog.models import Product
from shopd.content import service as content
from shopd.errors import NotFound
from shopd.http import DB, Conf
from shopd.web import i18n, seo


class SeoPages(Controller):
    """What search engines fetch."""

    include_in_schema = False

    @get("/robots.txt")
    async def robots(self, settings: Conf) -> Response[str]:
        return Response(
            seo.robots_txt(settings),
            media_type=MediaType.TEXT,
            headers={"Cache-Control": "public, max-age=3600"},
        )

    @get("/sitemap.xml")
    async def sitemap_index(self, settings: Conf) -> Response[bytes]:
        return _xml(seo.sitemap_index(settings))

    @get("/sitemaps/{name:str}")
    async def sitemap(
        self,
        request: Request[Any, Any, Any],
        name: Annotated[str, PathParameter(max_length=16)],
        db: DB,
        settings: Conf,
    ) -> Response[bytes]:
        lang = name.removesuffix(".xml")
        if lang not in i18n.LANGUAGES or not name.endswith(".xml"):
            raise NotFound("no such sitemap", code="not_found")
        paths: list[tuple[str, str | None]] = [("/", None)]
        tree = await reads.category_tree(CatalogCache.of(request.app.state))
        for series, cats in tree:
            paths.append((f"/c/{series.slug}", None))
            paths += [(f"/c/{cat.slug}", None) for cat, count in cats if count]
        async with db.read() as session:
            rows = await session.execute(
                select(Product.slug, Product.updated_at)
                .where(Product.listed.is_(True))
                .order_by(Product.id)
            )
            paths += [(f"/p/{slug}", updated.date().isoformat()) for slug, updated in rows]
            paths += [(f"/help/{page.slug}", None) for page in await content.pages(session)]
        paths.append(("/help", None))
        return _xml(seo.sitemap(settings, lang, paths))


def _xml(body: bytes) -> Response[bytes]:
    return Response(
        body,
        media_type="application/xml; charset=utf-8",
        headers={"Cache-Control": "public, max-age=3600"},
    )
