"""Words as search compares them: folded, split into Latin words and runs of Chinese characters,
reduced to a stem in English and Spanish, and Chinese spelt in pinyin.

Products are named in Chinese and English; shoppers type Chinese, English, Spanish and pinyin,
with plurals and accents or without. The same folding is applied to the catalog's words and to
what was typed, so they meet in one form.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import inflect
import snowballstemmer
from pypinyin import Style, lazy_pinyin

# CJK Unified Ideographs with extension A and the compatibility block: what pypinyin spells.
_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_PIECES = re.compile(rf"[{_CJK}]+|[^\W_{_CJK}]+")
_IS_CJK = re.compile(rf"[{_CJK}]")
_LATIN_LETTERS = re.compile(r"[a-z]+")

_ENGLISH = snowballstemmer.stemmer("english")
_SPANISH = snowballstemmer.stemmer("spanish")
# Snowball leaves irregular plurals apart ("scarves" → "scarv"); inflect knows them.
_INFLECT = inflect.engine()


def fold(text: str) -> str:
    """Full-width forms to their usual ones (NFKC), lower case, accents dropped: ``Ｔ恤`` and
    ``t恤``, ``Camión`` and ``camion`` are the same to a search."""
    if text.isascii():
        return text.lower()
    text = unicodedata.normalize("NFKC", text).casefold()
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


_NOT_A_LETTER = re.compile(r"[\W_]+")


def compact(code: str) -> str:
    """A code as a search keeps it: folded, letters and digits only (``TEE-XL`` → ``teexl``)."""
    return _NOT_A_LETTER.sub("", fold(code))


@dataclass(frozen=True, slots=True)
class Piece:
    text: str
    cjk: bool


def pieces(text: str) -> list[Piece]:
    """``text`` (folded) as Latin words and digits, and runs of Chinese characters; the rest
    (spaces, punctuation, symbols) only separates them."""
    return [Piece(m.group(), bool(_IS_CJK.match(m.group()))) for m in _PIECES.finditer(text)]


@lru_cache(maxsize=65536)
def stems(word: str) -> frozenset[str]:
    """The forms a Latin word may be found under: itself, its English stem (of its singular)
    and its Spanish stem. ``scarves``, ``scarfs`` and ``scarf`` share ``scarf``; ``hoody`` and
    ``hoodie`` share ``hoodi``; ``bufandas`` and ``bufanda`` share ``bufand``."""
    if not word.isalpha() or len(word) < 3:
        return frozenset({word})
    singular = _INFLECT.singular_noun(word) or word  # type: ignore[arg-type]
    return frozenset(
        {word, _ENGLISH.stemWord(str(singular)), _ENGLISH.stemWord(word), _SPANISH.stemWord(word)}
    )


@lru_cache(maxsize=65536)
def key(word: str) -> str:
    """The one form a catalog word is indexed under (its English stem: product texts are
    English and Chinese); what a shopper types is looked up under every form of ``stems``."""
    if not word.isalpha() or len(word) < 3:
        return word
    singular = _INFLECT.singular_noun(word) or word  # type: ignore[arg-type]
    return str(_ENGLISH.stemWord(str(singular)))


@dataclass(frozen=True, slots=True)
class Pinyin:
    """A run of Chinese characters spelt in pinyin: one syllable (and its initial) per
    character."""

    run: str
    syllables: tuple[str, ...]
    initials: tuple[str, ...]


@lru_cache(maxsize=65536)
def pinyin(run: str) -> Pinyin:
    syllables = tuple(lazy_pinyin(run, style=Style.NORMAL, errors=lambda s: list(s)))
    initials = tuple(s[:1] for s in syllables)
    return Pinyin(run, syllables, initials)


def could_be_pinyin(word: str) -> bool:
    return len(word) >= 2 and _LATIN_LETTERS.fullmatch(word) is not None
