"""The search index of one worker: every listed product's words in memory, and how a query
finds them.

Why in memory rather than SQLite FTS5 or MariaDB FULLTEXT: neither forgives a typo, neither
spells Chinese in pinyin, FTS5's tokenisers do not split Chinese into anything a shopper types
and MariaDB has no ngram parser for it. One index in the worker does all of it the same way on
both back ends; it is built from a few queries (``shopd.catalog.search.keeper``) and rebuilt
when the catalog version moves.

How a query is matched, word by word (``Unit``), each product scoring the best of:

- the word's own forms (``words.stems``: plural, stem, Spanish stem) in a product's words: 1.0
  times the field's weight (name 1.0, category 0.7, series 0.4);
- a staff synonym of it (``SearchSynonym``), matched as exactly: 0.95;
- a catalog word it begins (``tea`` → ``teapot``): 0.85;
- pinyin, full or initials, of Chinese in the catalog or the synonyms (``zisha`` → 紫砂,
  ``zsh`` → 紫砂壶): 0.9 and 0.8;
- Chinese as a substring of a product's Chinese: 1.0; else one that sounds the same: 0.7;
- a catalog word within one or two edits (RapidFuzz, optimal string alignment, so a swap of
  two letters is one edit): 0.75 and 0.6. Such a correction is what "did you mean" offers.

Adjacent words that are one catalog word together are read as one (``tea pot`` → ``teapot``);
catalog words are indexed joined with their neighbour too (``t-shirt`` under ``tshirt``).
A product's relevance is the mean of its words' scores; products that match every word come
first, and only when none does, those that match half of them at least.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from cachetools import LRUCache
from rapidfuzz import process
from rapidfuzz.distance import OSA

from shopd.catalog.search import words

NAME, CATEGORY, SERIES = 1.0, 0.7, 0.4
EXACT, SYNONYM, PINYIN, PREFIX, INITIALS, SOUNDS_LIKE = 1.0, 0.95, 0.9, 0.85, 0.8, 0.7
# A pair of catalog words joined (``t-shirt`` as ``tshirt``) counts as the words themselves:
# "tshirt", "t shirt" and "t-shirt" are the same query.
JOINED = 1.0
FUZZY = {1: 0.75, 2: 0.6}
# A word found only below this is found by likeness: the page offers "did you mean".
WELL = 0.8
# What one query may cost: a pasted paragraph is read as its first words.
MAX_UNITS = 12
MAX_JOINED = 4
MAX_PREFIX_KEYS = 40
MAX_FUZZY_KEYS = 8
MEMO = 2048


@dataclass(frozen=True, slots=True)
class ProductWords:
    """What a listed product is found by."""

    id: int
    category_id: int
    category_slug: str
    series_slug: str
    # (text, weight): names, category names, series names, in every language the catalog has.
    texts: tuple[tuple[str, float], ...]
    sku_codes: tuple[str, ...] = ()


@dataclass(slots=True)
class Found:
    """Which products a query matches and how well (0–1), before sales order them."""

    relevance: dict[int, float]
    # Every product here matches every word of the query.
    complete: bool
    # ... and every word is found as it is (or as a synonym, a prefix, pinyin), not only by
    # likeness.
    well: bool = False
    # The query as the catalog spells it, when it is not found well and that is.
    suggestion: str | None = None


@dataclass(slots=True)
class _UnitMatch:
    scores: dict[int, float] = field(default_factory=dict)
    best: float = 0.0
    # How the catalog spells this word, when only a likeness matched it.
    correction: str | None = None

    def add(self, postings: Mapping[int, float], score: float) -> None:
        if not self.scores:  # the first: no maximum to take
            self.scores = {pid: score * weight for pid, weight in postings.items()}
        else:
            self._most(postings, score)
        if postings and score > self.best:
            self.best = score

    def _most(self, postings: Mapping[int, float], score: float) -> None:
        for pid, weight in postings.items():
            s = score * weight
            if s > self.scores.get(pid, 0.0):
                self.scores[pid] = s


@dataclass(frozen=True, slots=True)
class _PinyinKey:
    spelling: str
    run: str
    start: int
    initials: bool


class SearchIndex:
    def __init__(
        self,
        products: Iterable[ProductWords],
        synonyms: Iterable[Iterable[str]] = (),
        sold: Mapping[int, int] | None = None,
    ) -> None:
        self.products: dict[int, ProductWords] = {}
        self._latin: dict[str, dict[int, float]] = {}
        self._shown_as: dict[str, dict[str, int]] = {}
        self._cjk: dict[str, dict[int, float]] = {}
        self._codes: dict[str, dict[int, float]] = {}
        # Category and series names repeat on every product: each text is analysed once.
        self._analysed: dict[str, list[tuple[str, float, bool]]] = {}
        runs: set[str] = set()
        for p in products:
            self.products[p.id] = p
            for text, weight in p.texts:
                self._add_text(p.id, text, weight, runs)
            for code in p.sku_codes:
                # Found by the whole code only (``tee-xl``, ``TEEXL``): tens of thousands of
                # codes among the words would slow every typo's look-up and find little.
                _better(self._codes.setdefault(words.compact(code), {}), p.id, NAME)
        self._keys = sorted(self._latin)
        self._analysed.clear()
        self.synonyms = _joined_groups(synonyms)
        self._synonyms_of: dict[str, set[int]] = {}
        synonym_words: set[str] = set()
        for number, terms in enumerate(self.synonyms):
            for term in terms:
                for form in _forms_of_term(term):
                    self._synonyms_of.setdefault(form, set()).add(number)
                for piece in words.pieces(term):
                    (runs.add if piece.cjk else synonym_words.add)(piece.text)
        # Words with a letter: numbers ("no. 12", "260 g") are typed as they are.
        self._fuzzy_choices = sorted(
            w for w in set(self._keys) | synonym_words if not w.isdigit() and len(w) >= 3
        )
        self._pinyin = sorted(
            (k for run in runs for k in _pinyin_keys(run)), key=lambda k: k.spelling
        )
        self._spellings = [k.spelling for k in self._pinyin]
        self.sold: Mapping[int, int] = sold or {}
        self._memo: LRUCache[str, Found] = LRUCache(MEMO)
        # Each synonym's products, worked out at its first use.
        self._terms: dict[str, dict[int, float]] = {}

    def _add_text(self, pid: int, text: str, weight: float, runs: set[str]) -> None:
        words_of = self._analysed.get(text)
        if words_of is None:
            words_of = self._analysed[text] = self._analyse(text, runs)
        for k, factor, cjk in words_of:
            _better((self._cjk if cjk else self._latin).setdefault(k, {}), pid, weight * factor)

    def _analyse(self, text: str, runs: set[str]) -> list[tuple[str, float, bool]]:
        """What a text is found under: (word's key or Chinese run, weight factor, is Chinese),
        and how each word is spelt (for "did you mean")."""
        out: list[tuple[str, float, bool]] = []
        last: str | None = None
        for piece in words.pieces(words.fold(text)):
            if piece.cjk:
                runs.add(piece.text)
                out.append((piece.text, 1.0, True))
                last = None  # a Chinese run separates Latin words
                continue
            out.append((self._spelt(piece.text), 1.0, False))
            if last is not None:
                out.append((self._spelt(last + piece.text), JOINED, False))
            last = piece.text
        return out

    def _spelt(self, word: str) -> str:
        k = words.key(word)
        shown = self._shown_as.setdefault(k, {})
        shown[word] = shown.get(word, 0) + 1
        return k

    # -- queries -------------------------------------------------------------------------

    def find(self, query: str) -> Found:
        """The products ``query`` (as typed, control characters already removed) matches."""
        folded = " ".join(words.fold(query).split())
        found = self._memo.get(folded)
        if found is None:
            found = self._find(folded)
            self._memo[folded] = found
        return found

    def forget_queries(self) -> None:
        """Forget the queries remembered (``find``), so the next of each is matched anew."""
        self._memo.clear()

    def ranked(self, found: Found) -> list[int]:
        """Product ids by relevance (in steps of a tenth, so near-equals count as equal), then
        sales, then the oldest first."""
        sold = self.sold

        def order(pid: int) -> tuple[int, int, int]:
            return (-int(found.relevance[pid] * 10 + 1e-9), -sold.get(pid, 0), pid)

        return sorted(found.relevance, key=order)

    def _find(self, folded: str, *, suggest: bool = True) -> Found:
        units = self._units(folded)
        if not units:
            return Found({}, complete=True, well=True)
        matches = [self._match(u) for u in units]
        every = set.intersection(*(set(m.scores) for m in matches))
        complete = bool(every)
        chosen = every or self._most(matches)
        if len(matches) == 1:
            relevance = matches[0].scores
        else:
            relevance = {
                pid: sum(m.scores.get(pid, 0.0) for m in matches) / len(matches) for pid in chosen
            }
        well = complete and bool(relevance) and min(m.best for m in matches) >= WELL
        found = Found(relevance, complete, well)
        if suggest and not found.well:
            corrected = " ".join(
                m.correction or u.text for u, m in zip(units, matches, strict=True)
            )
            # Offered only when it finds what it says, every word of it.
            if (
                corrected != " ".join(u.text for u in units)
                and self._find(corrected, suggest=False).well
            ):
                found.suggestion = corrected
        return found

    @staticmethod
    def _most(matches: list[_UnitMatch]) -> set[int]:
        """When no product matches every word: those matching at least half of them."""
        counts: dict[int, int] = {}
        for m in matches:
            for pid in m.scores:
                counts[pid] = counts.get(pid, 0) + 1
        half = (len(matches) + 1) // 2
        return {pid for pid, n in counts.items() if n >= half}

    def _units(self, folded: str) -> list[words.Piece]:
        """The query's words, with neighbours joined where the catalog, a synonym or pinyin
        has them as one word (``tea pot``, ``juego de te``, ``zi sha hu``), longest first."""
        ps = words.pieces(folded)[: MAX_UNITS * 2]
        units: list[words.Piece] = []
        i = 0
        while i < len(ps):
            j = self._joins(ps, i)
            units.append(words.Piece("".join(p.text for p in ps[i:j]), ps[i].cjk))
            i = j
        return units[:MAX_UNITS]

    def _joins(self, ps: list[words.Piece], i: int) -> int:
        """Where the unit that begins at ``ps[i]`` ends."""
        for j in range(min(len(ps), i + MAX_JOINED), i + 1, -1):
            run = ps[i:j]
            if any(p.cjk for p in run):
                continue
            joined = "".join(p.text for p in run)
            if self._is_a_word(joined) or (
                all(words.could_be_pinyin(p.text) for p in run)
                and self._pinyin_range(joined, whole_syllables=True)
            ):
                return j
        return i + 1

    def _is_a_word(self, word: str) -> bool:
        return word in self._codes or any(
            f in self._latin or f in self._synonyms_of for f in words.stems(word)
        )

    def _match(self, unit: words.Piece) -> _UnitMatch:
        m = _UnitMatch()
        if unit.cjk:
            self._chinese(unit.text, m)
        else:
            self._latin_word(unit.text, m)
        return m

    def _exactly(self, word: str, m: _UnitMatch, score: float = EXACT) -> None:
        for form in words.stems(word):
            postings = self._latin.get(form)
            if postings:
                m.add(postings, score)

    def _latin_word(self, word: str, m: _UnitMatch) -> None:
        self._exactly(word, m)
        code = self._codes.get(word)
        if code:
            m.add(code, EXACT)
        self._synonyms(words.stems(word), m)
        if len(word) >= 3:
            start = bisect.bisect_left(self._keys, word)
            for k in self._keys[start : start + MAX_PREFIX_KEYS]:
                if not k.startswith(word):
                    break
                m.add(self._latin[k], PREFIX)
        if words.could_be_pinyin(word):
            for run, initials in self._pinyin_matches(word):
                score = INITIALS if initials else PINYIN
                self._substring(run, m, score)
                self._synonyms({run}, m, score * SYNONYM)
        if m.best < PREFIX and len(word) >= 4:
            self._fuzzy(word, m)

    def _fuzzy(self, word: str, m: _UnitMatch) -> None:
        k = words.key(word)
        if len(k) < 4:
            return
        most = 1 if len(k) <= 6 else 2
        # Nearest first: the first likeness that finds anything is the correction offered.
        for choice, distance, _ in process.extract(
            k,
            self._fuzzy_choices,
            scorer=OSA.distance,
            score_cutoff=most,
            limit=MAX_FUZZY_KEYS,
        ):
            if distance == 0:
                continue  # the word itself: a synonym that finds nothing in this catalog
            had = len(m.scores)
            score = FUZZY[int(distance)]
            postings = self._latin.get(choice)
            if postings:
                m.add(postings, score)
            self._synonyms({choice, *words.stems(choice)}, m, score)
            if m.correction is None and len(m.scores) > had:
                m.correction = self._shown(choice)

    def _shown(self, k: str) -> str:
        spelt = self._shown_as.get(k)
        return max(spelt, key=lambda w: (spelt[w], -len(w))) if spelt else k

    def _chinese(self, run: str, m: _UnitMatch) -> None:
        self._substring(run, m, EXACT)
        self._synonyms({run} | {t for t in self._synonyms_of if _is_cjk(t) and t in run}, m)
        if not m.scores:
            spelling = "".join(words.pinyin(run).syllables)
            for sounds_like, _ in self._pinyin_matches(spelling, whole_syllables=True):
                if len(sounds_like) == len(run):
                    self._substring(sounds_like, m, SOUNDS_LIKE)
                    m.correction = m.correction or sounds_like

    def _substring(self, run: str, m: _UnitMatch, score: float) -> None:
        for text, postings in self._cjk.items():
            if run in text:
                m.add(postings, score)

    def _synonyms(self, forms: Iterable[str], m: _UnitMatch, score: float = SYNONYM) -> None:
        groups = set().union(*(self._synonyms_of.get(f, set()) for f in forms))
        for number in groups:
            for term in self.synonyms[number]:
                self._term(term, m, score)

    def _term(self, term: str, m: _UnitMatch, score: float) -> None:
        """A synonym's products: every word of it, exactly (a synonym of one word per word)."""
        found = self._terms.get(term)
        if found is None:
            found = self._terms[term] = self._term_products(term)
        m.add(found, score)

    def _term_products(self, term: str) -> dict[int, float]:
        per_piece: list[_UnitMatch] = []
        for piece in words.pieces(term):
            pm = _UnitMatch()
            if piece.cjk:
                self._substring(piece.text, pm, EXACT)
            else:
                self._exactly(piece.text, pm)
            per_piece.append(pm)
        if not per_piece:
            return {}
        every = set.intersection(*(set(pm.scores) for pm in per_piece))
        return {pid: sum(pm.scores[pid] for pm in per_piece) / len(per_piece) for pid in every}

    # -- pinyin --------------------------------------------------------------------------

    def _pinyin_range(self, typed: str, *, whole_syllables: bool = False) -> list[_PinyinKey]:
        start = bisect.bisect_left(self._spellings, typed)
        end = bisect.bisect_right(self._spellings, typed + "\uffff")
        keys = self._pinyin[start:end]
        if whole_syllables:
            keys = [k for k in keys if not k.initials and _syllables_in(k, typed) is not None]
        return keys

    def _pinyin_matches(
        self, typed: str, *, whole_syllables: bool = False
    ) -> set[tuple[str, bool]]:
        """The Chinese that ``typed`` spells from its start: (characters, by initials)."""
        found: set[tuple[str, bool]] = set()
        for k in self._pinyin_range(typed, whole_syllables=whole_syllables):
            if k.initials:
                count: int | None = len(typed)
            else:
                count = _syllables_in(k, typed, partial_last=not whole_syllables)
            if count:
                found.add((k.run[k.start : k.start + count], k.initials))
        return found


def _better(postings: dict[int, float], pid: int, weight: float) -> None:
    if weight > postings.get(pid, 0.0):
        postings[pid] = weight


def _is_cjk(text: str) -> bool:
    return any(p.cjk for p in words.pieces(text))


def _joined_groups(groups: Iterable[Iterable[str]]) -> list[tuple[str, ...]]:
    """The staff's groups, folded, those that share a word joined into one: with ``kettle,
    茶壶`` beside ``teapot, 茶壶, 紫砂壶``, a search for kettle finds the 紫砂壶 too."""
    folded = [
        tuple(dict.fromkeys(t for t in (" ".join(words.fold(g).split()) for g in group) if t))
        for group in groups
    ]
    folded = [terms for terms in folded if len(terms) >= 2]
    parent = list(range(len(folded)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first_with: dict[str, int] = {}
    for number, terms in enumerate(folded):
        for form in {f for term in terms for f in _forms_of_term(term)}:
            other = first_with.setdefault(form, number)
            parent[root(number)] = root(other)
    joined: dict[int, dict[str, None]] = {}
    for number, terms in enumerate(folded):
        joined.setdefault(root(number), {}).update(dict.fromkeys(terms))
    return [tuple(terms) for terms in joined.values()]


def _forms_of_term(term: str) -> set[str]:
    """Under what a synonym is looked up: a single word under every form of it, Chinese as
    written, a phrase as its words joined."""
    ps = words.pieces(term)
    if len(ps) == 1:
        return {ps[0].text} if ps[0].cjk else set(words.stems(ps[0].text))
    joined = "".join(p.text for p in ps)
    return {joined, *(words.stems(joined) if joined.isalpha() else ())}


def _pinyin_keys(run: str) -> list[_PinyinKey]:
    spelt = words.pinyin(run)
    keys = []
    for i in range(len(spelt.syllables)):
        keys.append(_PinyinKey("".join(spelt.syllables[i:]), run, i, False))
        if len(spelt.syllables) - i >= 2:
            keys.append(_PinyinKey("".join(spelt.initials[i:]), run, i, True))
    return keys


def _syllables_in(k: _PinyinKey, typed: str, *, partial_last: bool = False) -> int | None:
    """How many of the run's syllables from ``k.start`` ``typed`` spells: all whole, or (with
    ``partial_last``) the last begun; None when it ends inside a syllable and must not."""
    spelt = words.pinyin(k.run).syllables[k.start :]
    length = 0
    for n, syllable in enumerate(spelt, start=1):
        length += len(syllable)
        if length == len(typed):
            return n
        if length > len(typed):
            return n if partial_last else None
    return None
