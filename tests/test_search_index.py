"""The search index alone, on a few products made here: what each way of matching finds and
what it must not."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from shopd.catalog.search.index import CATEGORY, NAME, ProductWords, SearchIndex

TEAPOT = ProductWords(
    1, 1, "tea-sets", "home", (("宜兴紫砂壶", NAME), ("Yixing clay teapot", NAME)), ("POT-1",)
)
SCARF = ProductWords(
    2, 2, "accessories", "apparel", (("羊毛围巾", NAME), ("Wool scarf", NAME)), ("SC-1",)
)
TEE = ProductWords(
    3,
    3,
    "t-shirts",
    "apparel",
    (("纯棉T恤", NAME), ("Cotton T-shirt", NAME), ("T-shirts", CATEGORY)),
    ("TEE-XL",),
)


def index(*synonyms: list[str], sold: dict[int, int] | None = None) -> SearchIndex:
    return SearchIndex([TEAPOT, SCARF, TEE], synonyms, sold)


def first(idx: SearchIndex, q: str) -> list[int]:
    return idx.ranked(idx.find(q))


def test_a_synonym_whose_words_the_catalog_lacks_finds_nothing_and_breaks_nothing() -> None:
    idx = index(["kettle", "samovar"])
    for q in ("kettle", "samovar", "kettles", "samovra"):
        assert first(idx, q) == [], q


def test_typos_are_forgiven_only_within_their_length() -> None:
    idx = index()
    assert first(idx, "teapto") == [1]
    assert idx.find("teapto").suggestion == "teapot"
    assert first(idx, "scraf") == [2]
    # Three letters are typed as meant: "tea" is no typo of "tee".
    assert first(idx, "pot") == []
    # Two edits in a short word are another word.
    assert first(idx, "tpaeto") == []


def test_sku_codes_are_found_whole_in_any_spelling() -> None:
    idx = index()
    for q in ("TEE-XL", "tee xl", "teexl", "ＴＥＥ－ＸＬ"):
        assert first(idx, q) == [3], q
    assert first(idx, "xl") == []


def test_pinyin_in_full_and_initials_and_chinese_by_sound() -> None:
    idx = index()
    for q in ("zisha", "zishahu", "zi sha hu", "zsh", "紫砂", "yixing"):
        assert first(idx, q)[:1] == [1], q
    assert first(idx, "weijin") == [2] and first(idx, "wj") == [2]
    assert first(idx, "紫沙壶") == [1]
    assert idx.find("紫沙壶").suggestion == "紫砂壶"


def test_half_the_words_at_least_when_no_product_has_them_all() -> None:
    idx = index()
    assert sorted(first(idx, "wool teapot")) == [1, 2]
    assert idx.find("wool teapot").complete is False
    assert first(idx, "wool quartz marble") == []


def test_sales_order_equally_relevant_products_only() -> None:
    idx = index(["tee", "t-shirt", "scarf"], sold={2: 100})
    # Both match "tee" by synonym, equally: the best seller first.
    assert first(idx, "tee") == [2, 3]
    # The T-shirt matches its own name better, whatever the scarf sells.
    assert first(idx, "t-shirt")[0] == 3


def test_what_is_no_word_finds_nothing() -> None:
    idx = index()
    for q in ("", "   ", "%_%", "(a+)+$", ".*", "🫖", "\\"):
        assert first(idx, q) == [], q


def test_did_you_mean_is_offered_only_when_it_finds_every_word() -> None:
    idx = index()
    # "wool" is right and "teapto" a typo, but no product is both: nothing to offer.
    assert idx.find("wool teapto").suggestion is None
    assert idx.find("nothing like this").suggestion is None
    assert idx.find("cotton tshrit").suggestion == "cotton tshirt"


def test_groups_that_share_a_word_are_one() -> None:
    idx = index(["kettle", "茶壶"], ["teapot", "茶壶", "紫砂壶"], ["scarf", "muffler"])
    assert first(idx, "kettle") == [1]
    assert first(idx, "chahu") == [1]
    assert first(idx, "muffler") == [2]
    assert len(idx.synonyms) == 2


_DEMO_LIKE = index(["hoody", "hoodie"], ["茶壶", "紫砂壶", "tetera"], ["tea set", "juego de té"])


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.text(max_size=100),
        # Near the catalog's own words and pinyin, where the matching has most to do.
        st.text(alphabet="aeiouzshcwtpnrly 紫砂壶茶T-恤", max_size=30),
    )
)
def test_any_text_is_answered(q: str) -> None:
    found = _DEMO_LIKE.find(q)
    ranked = _DEMO_LIKE.ranked(found)
    assert set(ranked) <= {1, 2, 3}
    assert all(0 < found.relevance[pid] <= 1 for pid in ranked)
