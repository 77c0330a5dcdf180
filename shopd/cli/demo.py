"""The demo catalog: a small shop with two series, a dozen categories, bilingual products.

``seed(products=N)`` scales the same catalog to thousands of products for load tests; names stay
realistic (a base product plus a style word) and every SKU starts with a ledger row.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from shopd.catalog.models import Category, Product, SearchSynonym, Series, Sku
from shopd.catalog.service import search_text_for
from shopd.content import service as content
from shopd.content.models import Announcement
from shopd.customers.models import MembershipLevel
from shopd.db import utcnow
from shopd.inventory.service import open_stock
from shopd.promotions.models import Coupon, GroupBuy


@dataclass(frozen=True)
class Base:
    zh: str
    en: str
    price: int  # fen
    description: str


SERIES = [
    ("apparel", "服饰", "Apparel"),
    ("home", "家居", "Home & Living"),
]

# (series slug, category slug, zh, en, SKU axes)
CATEGORIES = [
    ("apparel", "t-shirts", "T恤", "T-shirts", "sized"),
    ("apparel", "shirts", "衬衫", "Shirts", "sized"),
    ("apparel", "hoodies", "卫衣", "Hoodies", "sized"),
    ("apparel", "trousers", "裤装", "Trousers", "sized"),
    ("apparel", "jackets", "外套", "Jackets", "sized"),
    ("apparel", "accessories", "配饰", "Accessories", "coloured"),
    ("home", "tea-sets", "茶具", "Tea sets", "coloured"),
    ("home", "mugs", "杯具", "Mugs & cups", "coloured"),
    ("home", "bedding", "床品", "Bedding", "bed"),
    ("home", "aroma", "香薰", "Aromatherapy", "single"),
    ("home", "storage", "收纳", "Storage", "coloured"),
    ("home", "stationery", "文具", "Stationery", "single"),
]

BASES: dict[str, list[Base]] = {
    "t-shirts": [
        Base(
            "纯棉圆领T恤",
            "Cotton crew-neck T-shirt",
            7900,
            "100% 新疆长绒棉，亲肤透气。Long-staple cotton, soft and breathable.",
        ),
        Base(
            "重磅短袖T恤",
            "Heavyweight short-sleeve tee",
            9900,
            "260 克重磅棉，不易变形。Heavy 260 g cotton that keeps its shape.",
        ),
        Base("山水印花T恤", "Landscape print tee", 8900, "水墨山水印花。Ink-wash landscape print."),
    ],
    "shirts": [
        Base(
            "牛津纺衬衫",
            "Oxford shirt",
            15900,
            "经典牛津纺，免烫处理。Classic oxford weave, easy care.",
        ),
        Base(
            "亚麻休闲衬衫",
            "Linen casual shirt",
            19900,
            "法国亚麻，夏季清凉。French linen for hot days.",
        ),
        Base(
            "立领中式衬衫",
            "Mandarin-collar shirt",
            21900,
            "盘扣立领。Frog buttons, mandarin collar.",
        ),
    ],
    "hoodies": [
        Base(
            "加绒连帽卫衣",
            "Fleece-lined hoodie",
            19900,
            "内里加绒，秋冬保暖。Fleece lining for cold days.",
        ),
        Base("拉链开衫卫衣", "Zip-up hoodie", 21900, "YKK 拉链。YKK zip."),
        Base(
            "宽松圆领卫衣",
            "Relaxed sweatshirt",
            16900,
            "落肩宽松版型。Dropped shoulders, relaxed fit.",
        ),
    ],
    "trousers": [
        Base("直筒牛仔裤", "Straight-leg jeans", 22900, "12 盎司原色丹宁。12 oz raw denim."),
        Base("休闲工装裤", "Cargo trousers", 19900, "多口袋设计。Plenty of pockets."),
        Base("运动束脚裤", "Jogger pants", 12900, "弹力面料。Stretch fabric."),
    ],
    "jackets": [
        Base(
            "轻薄羽绒服",
            "Light down jacket",
            39900,
            "90% 白鸭绒，可收纳。90% white duck down, packable.",
        ),
        Base("防风冲锋衣", "Windproof shell jacket", 45900, "防水透湿。Waterproof and breathable."),
        Base("复古夹克", "Retro bomber jacket", 32900, "经典飞行员款。Classic bomber cut."),
    ],
    "accessories": [
        Base("羊毛围巾", "Wool scarf", 12900, "澳洲美利奴羊毛。Australian merino wool."),
        Base("帆布托特包", "Canvas tote bag", 6900, "加厚帆布。Heavy canvas."),
        Base("针织毛线帽", "Knitted beanie", 5900, "双层针织。Double knit."),
    ],
    "tea-sets": [
        Base(
            "青瓷功夫茶具",
            "Celadon gongfu tea set",
            36900,
            "龙泉青瓷，一壶四杯。Longquan celadon, one pot and four cups.",
        ),
        Base("便携旅行茶具", "Travel tea set", 15900, "快客杯，随身携带。Quick cup for the road."),
        Base("紫砂壶", "Yixing clay teapot", 58800, "宜兴原矿紫砂。Yixing purple clay."),
    ],
    "mugs": [
        Base(
            "手绘陶瓷马克杯",
            "Hand-painted ceramic mug",
            4900,
            "每只图案略有不同。Each one slightly different.",
        ),
        Base("双层玻璃杯", "Double-wall glass", 5900, "隔热不烫手。Stays cool to the touch."),
        Base("保温咖啡杯", "Insulated coffee cup", 8900, "316 不锈钢内胆。316 stainless steel."),
    ],
    "bedding": [
        Base(
            "全棉四件套",
            "Cotton bedding set (4 pcs)",
            49900,
            "60 支长绒棉。60s long-staple cotton.",
        ),
        Base(
            "真丝枕套", "Mulberry silk pillowcase", 19900, "22 姆米桑蚕丝。22 momme mulberry silk."
        ),
        Base("夏凉被", "Summer quilt", 29900, "水洗棉，可机洗。Washed cotton, machine washable."),
    ],
    "aroma": [
        Base(
            "檀香香薰蜡烛",
            "Sandalwood scented candle",
            8900,
            "大豆蜡，燃烧约 40 小时。Soy wax, about 40 hours.",
        ),
        Base("无火香薰", "Reed diffuser", 9900, "藤条扩香。Rattan reeds."),
        Base("线香礼盒", "Incense stick gift box", 6900, "天然沉香。Natural agarwood."),
    ],
    "storage": [
        Base("竹编收纳篮", "Woven bamboo basket", 5900, "手工竹编。Handwoven bamboo."),
        Base("桌面收纳盒", "Desk organiser", 4900, "多格分区。Several compartments."),
        Base("布艺收纳箱", "Fabric storage box", 7900, "可折叠。Folds flat."),
    ],
    "stationery": [
        Base("宣纸笔记本", "Xuan paper notebook", 3900, "线装手工本。Thread-bound by hand."),
        Base(
            "铜杆钢笔",
            "Brass fountain pen",
            16900,
            "黄铜笔杆，越用越亮。Brass that ages beautifully.",
        ),
        Base("书法毛笔套装", "Calligraphy brush set", 12900, "兼毫四支。Four mixed-hair brushes."),
    ],
}

STYLES = [
    ("经典", "Classic"),
    ("简约", "Minimal"),
    ("复古", "Vintage"),
    ("限定", "Limited"),
    ("轻奢", "Premium"),
    ("国潮", "Guochao"),
    ("森系", "Forest"),
    ("城市", "Urban"),
    ("春季", "Spring"),
    ("夏季", "Summer"),
    ("秋季", "Autumn"),
    ("冬季", "Winter"),
]
COLOURS = [
    ("黑色", "Black"),
    ("白色", "White"),
    ("藏青", "Navy"),
    ("燕麦", "Oat"),
    ("墨绿", "Forest green"),
]
SIZES = ["S", "M", "L", "XL"]
BED_SIZES = [("1.5米床", "1.5 m"), ("1.8米床", "1.8 m")]

# What shoppers call the goods beside the catalog's own words: other English, Chinese they type
# for what the names say otherwise (茶壶 for the 紫砂壶), and Spanish, which the catalog has no
# names in. Staff edit them (``PUT /api/v1/staff/search/synonyms``).
SYNONYMS = [
    ["hoodie", "hoody", "sweatshirt", "卫衣", "sudadera"],
    ["teapot", "茶壶", "紫砂壶", "tetera"],
    ["scarf", "围巾", "bufanda"],
    ["t-shirt", "tee", "T恤", "camiseta"],
    ["shirt", "衬衫", "camisa"],
    ["mug", "cup", "杯子", "taza"],
    ["jeans", "牛仔裤", "vaqueros"],
    ["trousers", "pants", "裤子", "pantalones"],
    ["jacket", "外套", "chaqueta"],
    ["beanie", "hat", "帽子", "gorro"],
    ["tote bag", "bag", "包", "bolsa"],
    ["tea set", "茶具", "juego de té"],
    ["candle", "蜡烛", "vela"],
    ["pillowcase", "枕套", "funda de almohada"],
    ["notebook", "笔记本", "cuaderno"],
    ["fountain pen", "钢笔", "pluma"],
    ["basket", "篮子", "cesta"],
]

DEFAULT_PRODUCTS = len(CATEGORIES) * 3
BATCH = 400


def _skus(axis: str, rng: random.Random) -> list[tuple[dict[str, str], int]]:
    """(attributes, price delta) per SKU of a product."""
    if axis == "sized":
        colours = rng.sample(COLOURS, 2)
        return [({"size": s, "colour": f"{zh} {en}"}, 0) for zh, en in colours for s in SIZES]
    if axis == "coloured":
        return [({"colour": f"{zh} {en}"}, 0) for zh, en in rng.sample(COLOURS, 3)]
    if axis == "bed":
        return [({"size": f"{zh} {en}"}, i * 5000) for i, (zh, en) in enumerate(BED_SIZES)]
    return [({}, 0)]


async def catalog_size(session: AsyncSession) -> int:
    return await session.scalar(select(func.count()).select_from(Product)) or 0


async def seed(
    session: AsyncSession,
    products: int = DEFAULT_PRODUCTS,
    *,
    seed_value: int = 2026,
    progress: Callable[[int], None] | None = None,
) -> dict[str, int]:
    """Create the demo catalog in an empty database; returns counts of what was made."""
    rng = random.Random(seed_value)
    series = {
        slug: Series(slug=slug, name=zh, name_en=en, position=i)
        for i, (slug, zh, en) in enumerate(SERIES)
    }
    session.add_all(series.values())
    await session.flush()
    categories: list[tuple[Category, str]] = []
    for i, (s_slug, slug, zh, en, axis) in enumerate(CATEGORIES):
        cat = Category(series_id=series[s_slug].id, slug=slug, name=zh, name_en=en, position=i)
        cat.series = series[s_slug]
        categories.append((cat, axis))
    session.add_all([c for c, _ in categories])
    await session.flush()

    made = {"series": len(series), "categories": len(categories), "products": 0, "skus": 0}
    sku_counter = 0
    for start in range(0, products, BATCH):
        batch: list[tuple[Product, list[Sku]]] = []
        for n in range(start, min(start + BATCH, products)):
            cat, axis = categories[n % len(categories)]
            base_list = BASES[cat.slug]
            round_no, rest = divmod(n // len(categories), len(base_list))
            base = base_list[rest]
            if round_no == 0:
                zh, en, slug = base.zh, base.en, f"{cat.slug}-{rest + 1}"
            else:
                s_zh, s_en = STYLES[(round_no - 1) % len(STYLES)]
                zh, en = f"{s_zh}{base.zh}", f"{s_en} {base.en.lower()}"
                slug = f"{cat.slug}-{rest + 1}-{round_no}"
                if round_no > len(STYLES):
                    zh, en = f"{zh} {round_no}号", f"{en} no. {round_no}"
            price = base.price + rng.choice([0, 0, 0, 1000, -1000]) * min(round_no, 1)
            product = Product(
                slug=slug,
                category_id=cat.id,
                name=zh,
                name_en=en,
                description=base.description,
                list_price=max(price, 990),
                images=["/static/placeholder.svg"],
                listed=True,
            )
            skus: list[Sku] = []
            for attrs, delta in _skus(axis, rng):
                sku_counter += 1
                skus.append(
                    Sku(
                        code=f"SKU-{sku_counter:06d}",
                        attributes=attrs,
                        price=product.list_price + delta if delta else None,
                        active=True,
                    )
                )
            product.search_text = search_text_for(product, skus, cat, cat.series)
            batch.append((product, skus))
        session.add_all([p for p, _ in batch])
        await session.flush()
        for product, skus in batch:
            for sku in skus:
                sku.product_id = product.id
            session.add_all(skus)
        await session.flush()
        for _, skus in batch:
            for sku in skus:
                # A few sold out and a few nearly gone, as in any real shop.
                on_hand = rng.choice([0] + [3] * 2 + [rng.randint(10, 200)] * 17)
                open_stock(session, sku.id, on_hand, actor="seed")
            made["skus"] += len(skus)
        await session.flush()
        made["products"] += len(batch)
        if progress:
            progress(len(batch))
    session.add_all(SearchSynonym(terms=group, updated_by="seed") for group in SYNONYMS)
    # The service center starts with the pages every shop needs; staff rewrite them.
    await content.seed_pages(session)
    session.add(
        Announcement(
            title="双十一预热 · Double 11 is coming",
            body="**11.11** — free shipping on every order. 全场包邮。",
            published=True,
            created_by="seed",
        )
    )
    await _seed_campaigns(session)
    return made


async def _seed_campaigns(session: AsyncSession) -> None:
    """A VIP ladder, two coupons and a group buy, so the demo shows every kind of campaign."""
    now = utcnow()
    session.add_all(
        [
            MembershipLevel(name="silver 银卡", min_spend=50000, discount_percent=5),
            MembershipLevel(name="gold 金卡", min_spend=200000, discount_percent=10),
            MembershipLevel(name="diamond 钻石", min_spend=1000000, discount_percent=15),
        ]
    )
    year = {"starts_at": now, "ends_at": now + dt.timedelta(days=365), "created_by": "seed"}
    session.add_all(
        [
            Coupon(
                code="FULL200",
                title="满200减30",
                kind="amount_off",
                value=3000,
                min_spend=20000,
                per_customer_limit=1,
                **year,
            ),
            Coupon(
                code="FREESHIP",
                title="包邮券",
                kind="free_shipping",
                value=0,
                per_customer_limit=3,
                stackable=True,
                **year,
            ),
        ]
    )
    first = await session.scalar(select(Sku).order_by(Sku.id).limit(1))
    if first is not None:
        product = await session.get(Product, first.product_id)
        assert product is not None
        regular = first.effective_price(product)
        session.add(
            GroupBuy(
                sku_id=first.id,
                title="三人成团",
                group_price=max(math.ceil(regular * 0.8), 1),
                min_buyers=3,
                max_buyers=50,
                per_customer_limit=1,
                starts_at=now,
                ends_at=now + dt.timedelta(days=7),
                created_by="seed",
            )
        )
    await session.flush()
