"""Storefront search on the demo catalog: every row of the search-quality table in
docs/storefront.md, the page's "did you mean" and count wording per language, staff synonyms,
ranking by sales among equals, and hostile queries; on both back ends."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import httpx
import pytest
from sqlalchemy import update

from shopd.catalog.models import Product, SearchSynonym
from shopd.catalog.search.keeper import SearchIndexKeeper
from shopd.cli.demo import seed
from shopd.db import Database
from tests.staffkit import make_staff

DOC = Path(__file__).parent.parent / "docs" / "storefront.md"
ROW = re.compile(
    r"^\| `(?P<query>[^`]+)` \| (?P<kind>[^|]+) \| `(?P<slug>[^`]+)` (?P<name>[^|]+) \|$"
)


def quality_table() -> list[tuple[str, str, str]]:
    """(query, kind, expected first slug) for each row between the table's markers."""
    text = DOC.read_text(encoding="utf-8")
    body = text.split("<!-- search-quality:begin -->")[1].split("<!-- search-quality:end -->")[0]
    rows = []
    for line in body.strip().splitlines()[2:]:  # past the header and its rule
        m = ROW.match(line)
        assert m, f"not a row of the search-quality table: {line!r}"
        rows.append((m["query"], m["kind"].strip(), m["slug"]))
    return rows


@pytest.fixture
async def demo(db: Database) -> None:
    async with db.write() as s:
        await seed(s)
        await s.commit()


async def first_results(client: httpx.AsyncClient, q: str, n: int = 1) -> list[str]:
    r = await client.get("/api/v1/products", params={"q": q, "per_page": n})
    assert r.status_code == 200, r.text
    return [p["slug"] for p in r.json()["items"]]


def test_the_table_has_thirty_queries_of_every_kind() -> None:
    rows = quality_table()
    assert len(rows) == 30
    kinds = " ".join(kind for _, kind, _ in rows)
    for kind in (
        "typo",
        "plural",
        "spacing",
        "pinyin",
        "initials",
        "synonym",
        "Spanish",
        "Chinese",
    ):
        assert kind in kinds, kind


async def test_every_row_of_the_quality_table(client: httpx.AsyncClient, demo: None) -> None:
    wrong = []
    for query, kind, expected in quality_table():
        got = await first_results(client, query)
        if got != [expected]:
            wrong.append((query, kind, expected, got))
    assert wrong == []


async def test_the_page_offers_did_you_mean_for_a_typo_only(
    client: httpx.AsyncClient, demo: None
) -> None:
    page = (await client.get("/search", params={"q": "teapto"})).text
    assert 'href="/search?q=teapot"' in page
    assert "Yixing clay teapot" in page
    exact = (await client.get("/search", params={"q": "teapot"})).text
    assert "did-you-mean" not in exact
    nothing = (await client.get("/search", params={"q": "qqqxzv"})).text
    assert "did-you-mean" not in nothing and "No products match" in nothing


@pytest.mark.parametrize(
    ("lang", "one", "three"),
    [
        ("en", "1 result<", "3 results<"),
        ("zh", "1 个结果<", "3 个结果<"),
        ("es", "1 resultado<", "3 resultados<"),
    ],
)
async def test_the_count_is_worded_for_its_number_in_each_language(
    client: httpx.AsyncClient, demo: None, lang: str, one: str, three: str
) -> None:
    for q, wording in (("zisha", one), ("hoody", three)):
        page = (await client.get("/search", params={"q": q, "lang": lang})).text
        assert f'<span class="count">{wording}' in page, (q, lang)


async def test_among_equally_relevant_products_the_best_seller_comes_first(
    client: httpx.AsyncClient, db: Database, demo: None
) -> None:
    assert (await first_results(client, "hoody", 3))[:2] == ["hoodies-1", "hoodies-2"]
    async with db.write() as s:
        await s.execute(update(Product).where(Product.slug == "hoodies-2").values(sold_count=50))
        await s.execute(update(Product).where(Product.slug == "hoodies-3").values(sold_count=90))
        await s.commit()
    # hoodies-3 (a sweatshirt, found by synonym) sells most but matches less well.
    assert await first_results(client, "hoody", 3) == ["hoodies-2", "hoodies-1", "hoodies-3"]
    # Asked for by its own name, it comes first.
    assert (await first_results(client, "sweatshirt"))[0] == "hoodies-3"


async def test_staff_synonyms_change_the_search_at_once(
    client: httpx.AsyncClient, db: Database, demo: None
) -> None:
    staff = await make_staff(client, db)
    assert await first_results(client, "samovar") == []
    groups = (await client.get("/api/v1/staff/search/synonyms", headers=staff.clerk)).json()[
        "groups"
    ]
    assert ["hoodie", "hoody", "sweatshirt", "卫衣", "sudadera"] in groups
    r = await client.put(
        "/api/v1/staff/search/synonyms",
        json={"groups": [*groups, ["samovar", " 紫砂壶 ", "SAMOVAR"]]},
        headers=staff.manager,
    )
    assert r.status_code == 200, r.text
    # Trimmed, and a word folded alike is one word.
    assert r.json()["groups"][-1] == ["samovar", "紫砂壶"]
    assert await first_results(client, "samovar") == ["tea-sets-3"]
    assert await first_results(client, "samovars") == ["tea-sets-3"]

    # A group of one word (also once folded), or a word of symbols alone, is refused and
    # nothing changes.
    for bad, code in (
        (["samovar"], "validation_error"),
        (["samovar", "Samovar "], "invalid_synonym"),
        (["samovar", "!!!"], "invalid_synonym"),
    ):
        r = await client.put(
            "/api/v1/staff/search/synonyms", json={"groups": [bad]}, headers=staff.manager
        )
        assert r.status_code == 400, r.text
        assert r.json()["error"]["code"] == code
    assert await first_results(client, "samovar") == ["tea-sets-3"]

    # Emptied, the synonyms are gone from the search too.
    r = await client.put(
        "/api/v1/staff/search/synonyms", json={"groups": []}, headers=staff.manager
    )
    assert r.status_code == 200
    assert await first_results(client, "samovar") == []
    # A Spanish name the demo gives is found by itself now, not through a synonym.
    assert await first_results(client, "tetera") == ["tea-sets-3"]


async def test_a_renamed_product_is_found_by_its_new_name(
    client: httpx.AsyncClient, db: Database, demo: None
) -> None:
    staff = await make_staff(client, db)
    assert await first_results(client, "samovar") == []
    r = await client.patch(
        "/api/v1/staff/products/tea-sets-3",
        json={"name_en": "Yixing clay samovar"},
        headers=staff.manager,  # a clerk's change waits for review, delisted
    )
    assert r.status_code == 200, r.text
    assert await first_results(client, "samovars") == ["tea-sets-3"]


@pytest.mark.parametrize(
    "q",
    [
        "(a+)+$",
        ".*",
        "[[[",
        "\\",
        "%_%",
        "tea\x00pot",
        "\u202etea",
        "🫖",
        "a " * 49,
        "紫" * 100,
    ],
)
async def test_hostile_queries_get_an_answer(client: httpx.AsyncClient, demo: None, q: str) -> None:
    api = await client.get("/api/v1/products", params={"q": q})
    assert api.status_code == 200, api.text
    page = await client.get("/search", params={"q": q})
    assert page.status_code == 200
    assert "\x00" not in page.text


async def test_an_over_long_query_is_refused_clearly(client: httpx.AsyncClient, demo: None) -> None:
    r = await client.get("/api/v1/products", params={"q": "t" * 10_000})
    assert r.status_code == 400
    assert "q" in r.text


async def test_a_change_made_elsewhere_is_indexed_beside_the_searches(
    db: Database, demo: None
) -> None:
    keeper = SearchIndexKeeper(db, check_seconds=0.01, sales_seconds=60)
    before = await keeper.index()
    assert keeper.builds == 1 and before.find("kettle").relevance == {}
    # Another app server (or shopctl) adds a synonym: the catalog version moves.
    async with db.write() as s:
        s.add(SearchSynonym(terms=["kettle", "teapot"], updated_by="elsewhere"))
        await s.commit()
    await asyncio.sleep(0.02)
    # The search in hand is not held up: it gets the index there is, the new one is built.
    assert await keeper.index() is before
    await keeper.looked()
    after = await keeper.index()
    assert keeper.builds == 2 and after is not before
    assert list(after.find("kettle").relevance) == list(before.find("teapot").relevance)
    # A change on this worker: its next search waits for the index that shows it.
    async with db.write() as s:
        s.add(SearchSynonym(terms=["samovar", "teapot"], updated_by="here"))
        await s.commit()
    keeper.forget()
    assert (await keeper.index()).find("samovar").relevance != {}
    assert keeper.builds == 3
