"""The staff's search synonyms: groups of words a search treats as one (``hoody, hoodie``;
``茶壶, 紫砂壶``; the Spanish ``bufanda, scarf``). Staff read them and replace them as a whole,
so the list they see is the list that holds; each change moves the catalog version, and every
worker's search index is rebuilt with it (``shopd.catalog.search.keeper``)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from shopd.catalog.cache.version import bump
from shopd.catalog.models import SearchSynonym
from shopd.catalog.search import words
from shopd.errors import InvalidInput
from shopd.staff.audit import Actor, record
from shopd.validation import clean_text

MAX_GROUPS = 1000
MAX_TERMS = 20
MAX_TERM_LENGTH = 60


async def groups(session: AsyncSession) -> list[list[str]]:
    rows = await session.scalars(select(SearchSynonym).order_by(SearchSynonym.id))
    return [list(row.terms) for row in rows]


def checked(proposed: Sequence[Sequence[str]]) -> list[list[str]]:
    """Each group's terms trimmed, without repeats (as a search folds them), two at least."""
    if len(proposed) > MAX_GROUPS:
        raise InvalidInput(
            f"at most {MAX_GROUPS} synonym groups",
            code="too_many_synonyms",
            details={"max_groups": MAX_GROUPS},
        )
    out = []
    for n, group in enumerate(proposed):
        if len(group) > MAX_TERMS:
            raise InvalidInput(
                f"group {n + 1} has more than {MAX_TERMS} words",
                code="too_many_synonyms",
                details={"group": n, "max_terms": MAX_TERMS},
            )
        terms: dict[str, str] = {}
        for term in group:
            text = clean_text(term, "synonym", max_length=MAX_TERM_LENGTH)
            if not words.pieces(words.fold(text)):
                raise InvalidInput(
                    f"{text!r} has no letter or digit a search could match",
                    code="invalid_synonym",
                    details={"group": n, "term": text},
                )
            terms.setdefault(" ".join(words.fold(text).split()), text)
        if len(terms) < 2:
            raise InvalidInput(
                f"group {n + 1} needs two different words",
                code="invalid_synonym",
                details={"group": n},
            )
        out.append(list(terms.values()))
    return out


async def replace(
    session: AsyncSession, actor: Actor, proposed: Sequence[Sequence[str]]
) -> list[list[str]]:
    """Every group replaced by ``proposed`` (checked first: nothing changes when one is bad)."""
    actor.require("manager")
    new = checked(proposed)
    before = await groups(session)
    await session.execute(delete(SearchSynonym))
    await bump(session)  # a bulk delete is seen by no flush, and the new list may be empty
    session.add_all(SearchSynonym(terms=g, updated_by=actor.label) for g in new)
    record(
        session,
        actor,
        "search.synonyms",
        "search_synonyms",
        "all",
        before={"groups": before},
        after={"groups": new},
    )
    await session.flush()
    return new
