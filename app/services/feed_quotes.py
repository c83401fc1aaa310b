"""The quotes the feed shows: for each theme or other group shown, its first few in quote order.

Without filters a group is read from an index in that order, only a window deep, so its cost
follows the quotes shown rather than the group's size. Under filters the rows that pass are read
at once and ranked here: an index walk would pass over every row that fails.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Integer,
    and_,
    case,
    func,
    literal,
    not_,
    text,
    true,
    union_all,
)
from sqlalchemy.orm import load_only
from sqlmodel import Session, select
from sqlmodel.sql.expression import Select

from app.services.feed import FeedFilters, Row, counts_toward_ranking, distinct_wordings
from app.services.feed_stats import rollup_filter, unfiltered
from app.services.feed_totals import one_of, same
from models import Call, ClusterMember, FeedRollup, Mention

R = FeedRollup
# groups read by one union (SQLite allows 500 selects in one)
_ARMS = 100

_MENTION_COLUMNS = (Mention.id, Mention.text, Mention.call_id, Mention.speaker, Mention.start_ms,
                    Mention.category, Mention.confidence, Mention.utterance_id, Mention.context,
                    Mention.kind, Mention.workspace_id)
_CALL_COLUMNS = (Call.id, Call.account, Call.title, Call.started_at, Call.created_at,
                 Call.workspace_id)
# an other group's quote is in no theme: no similarity to one, no lead in its order
_NO_THEME = (literal(0.0).label("similarity"), literal(0.0).label("lead"))


def theme_quotes(*, session: Session, workspace_id: int, kind: str, filters: FeedFilters,
                 cluster_ids: list[int], limit: int) -> dict[int, list[Row]]:
    """Each theme's best quotes under the filters, as app/services/feed.py's best_quotes picks
    them (confident first, by lead, one per wording)."""
    if not unfiltered(filters):
        return _filtered_theme_quotes(session, workspace_id, kind, filters, cluster_ids, limit)
    # the theme's members in quote order, from their index; no condition on the mention's
    # workspace or kind (the theme's are its members'): SQLite, without statistics, would read
    # the workspace's mentions instead
    members = (select(Mention.id, ClusterMember.similarity, ClusterMember.lead, Mention.text,
                      *_sort_key(-ClusterMember.lead, -Mention.confidence, Mention.id))
               .select_from(ClusterMember).join(Mention, ClusterMember.mention_id == Mention.id)
               .order_by(ClusterMember.lead.desc(), Mention.confidence.desc(), Mention.id))
    return _first_quotes(session, lambda cid: members.where(ClusterMember.cluster_id == cid),
                         cluster_ids, limit, one_per_wording=True, correlated=True)


def _filtered_theme_quotes(session: Session, workspace_id: int, kind: str,
                           filters: FeedFilters, cluster_ids: list[int],
                           limit: int) -> dict[int, list[Row]]:
    """Under filters a theme's index would be walked past every member that fails them, so the
    members that pass are read at once instead (the mentions of the calls whose summary rows
    pass; a call's facts are the same in all its rows) and ranked here."""
    if not cluster_ids or limit <= 0:
        return {cid: [] for cid in cluster_ids}
    calls = select(R.call_id).where(
        *rollup_filter(workspace_id=workspace_id, kind=kind, filters=filters),
        R.cluster_id.in_(cluster_ids))  # type: ignore[union-attr]
    rows = session.exec(
        select(ClusterMember.cluster_id, Mention.id, ClusterMember.similarity, ClusterMember.lead,
               Mention.text,
               *_sort_key(_confident_last(), -ClusterMember.lead, -Mention.confidence, Mention.id))
        .select_from(Mention).join(ClusterMember, ClusterMember.mention_id == Mention.id)
        .where(Mention.call_id.in_(calls),
               ClusterMember.cluster_id.in_(cluster_ids))).all()  # type: ignore[union-attr]
    return _ranked_here(session, rows, cluster_ids, limit, one_per_wording=True)


def _confident_last() -> ColumnElement:
    return case((counts_toward_ranking(), 0), else_=1)


def _sort_key(*columns) -> list:
    """Columns of a sort key, named apart from the same columns selected for themselves."""
    return [column.label(f"sort_{i}") for i, column in enumerate(columns)]


def _ranked_here(session: Session, rows: Sequence, groups: list, limit: int, *,
                 one_per_wording: bool) -> dict:
    """Each group's first quotes from rows of (group, mention id, similarity, lead, text,
    *sort key) that hold all of its candidates."""
    ranked: dict = {g: [] for g in groups}
    for group, *candidate in sorted(rows, key=lambda r: tuple(r[5:])):
        ranked[group].append(_candidate(*candidate))
    picks = {g: (distinct_wordings(ranked[g], _wording, limit) if one_per_wording
                 else ranked[g][:limit]) for g in groups}
    return _rows(session, picks)


def other_quotes(*, session: Session, workspace_id: int, kind: str, filters: FeedFilters,
                 categories: list[str | None], limit: int) -> dict[str | None, list[Row]]:
    """Each category's other group, confident and recent first (feed.loose_quotes' order)."""
    # an other group's summary rows, and each one's loose mentions
    loose = (select(R.category, Mention.id, *_NO_THEME, Mention.text).select_from(R)
             .join(Mention, and_(Mention.call_id == R.call_id, Mention.kind == R.kind))
             .join(ClusterMember, ClusterMember.mention_id == Mention.id, isouter=True)
             .where(*rollup_filter(workspace_id=workspace_id, kind=kind, filters=filters),
                    R.cluster_id.is_(None), ClusterMember.mention_id.is_(None)))
    if not unfiltered(filters):
        # the rows that pass, all groups at once and ranked here: walking each group's rows
        # newest first would pass over every row that fails (and PostgreSQL would hash the
        # tag and role conditions again for each group)
        if not categories or limit <= 0:
            return {c: [] for c in categories}
        rows = session.exec(loose.add_columns(
            *_sort_key(_confident_last(), -R.at_us, -Mention.confidence, Mention.id)).where(
            one_of(R.category, categories),
            func.coalesce(Mention.category, "") == func.coalesce(R.category, ""))).all()
        return _ranked_here(session, rows, categories, limit, one_per_wording=False)

    def of_category(category: str | None):
        # newest first from the other groups' index; an other group's rows are of its
        # mentions' category: named as a constant on both sides, PostgreSQL estimates the
        # join well enough to walk the index
        return (loose.with_only_columns(Mention.id, *_NO_THEME, Mention.text,
                                        *_sort_key(-R.at_us, -Mention.confidence, Mention.id))
                .where(same(R.category, category), same(Mention.category, category))
                .order_by(R.at_us.desc(), Mention.confidence.desc(), Mention.id))

    return _first_quotes(session, of_category, categories, limit, one_per_wording=False)


def _first_quotes(session: Session, of_group: Callable[[Any], Select], groups: list,
                  limit: int, *, one_per_wording: bool, correlated: bool = False) -> dict:
    """The first `limit` quotes (distinct wordings when asked) of each group: its confident
    mentions in order, then the others. Each group is read in the order an index gives, only a
    window deep (deeper while it is short of wordings), so that its cost follows the quotes
    shown, not its size. `of_group` gives a group's ordered query of mention ids, similarities,
    leads, texts and its sort key; `correlated`: it takes a column of group keys as well."""
    picks: dict = {g: [] for g in groups}
    # repeated wordings sit side by side in quote order (one text: one similarity, and as a rule
    # one confidence)
    window = 8 * limit + 8 if one_per_wording else limit
    short = list(groups) if limit > 0 else []  # quotes=0 asks for none
    while short:
        heads = _ordered_heads(session, of_group, short, window, correlated=correlated)
        for group in short:
            candidates = heads[group][0]
            picks[group] = (distinct_wordings(candidates, _wording, limit) if one_per_wording
                            else candidates[:limit])
        short = [g for g in short if len(picks[g]) < limit and not heads[g][1]]
        window *= 4
    return _rows(session, picks)


def _ordered_heads(session: Session, of_group: Callable[[Any], Select], groups: list,
                   window: int, *, correlated: bool) -> dict[Any, tuple[list[tuple], bool]]:
    """Per group, the first rows of its whole order (confident first) that `window`-deep reads
    give, and whether they are all of it."""
    confident = counts_toward_ranking()
    first = _heads(session, of_group, groups, confident, window, correlated=correlated)
    partial = [i for i, rows in enumerate(first) if len(rows) < window]
    rest = dict(zip(partial, _heads(session, of_group, [groups[i] for i in partial],
                                    not_(confident), window, correlated=correlated),
                    strict=True))
    return {g: (first[i] + rest.get(i, []), i in rest and len(rest[i]) < window)
            for i, g in enumerate(groups)}


def _heads(session: Session, of_group: Callable[[Any], Select], groups: list,
           where: ColumnElement, window: int, *, correlated: bool) -> list[list[tuple]]:
    """The first `window` candidates (mention id, similarity, lead, text) of each group's query
    under `where`, the groups read together (a lateral join on PostgreSQL where `of_group` is
    correlated, else a union per hundred groups): each still walks its own index, without a
    round trip of its own. Neither a union nor a lateral join keeps an order, so each group's
    rows are sorted again here by their sort key."""
    if not groups:
        return []
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres:
        # a hundred cheap index walks together cost past PostgreSQL's JIT threshold, and
        # compiling them takes longer than running them; for this transaction only
        session.execute(text("SET LOCAL jit = off"))
    if postgres and correlated:
        # planned once, not once per group as a union's selects are
        statements = [_lateral(of_group, groups, where, window)]
    else:
        statements = [union_all(*arms) if len(arms) > 1 else arms[0] for arms in (
            [select(literal(i).label("arm"), of_group(g).where(where).limit(window).subquery())
             for i, g in enumerate(groups[start:start + _ARMS], start=start)]
            for start in range(0, len(groups), _ARMS))]
    heads: list[list[tuple]] = [[] for _ in groups]
    for statement in statements:
        rows = session.exec(statement).all()
        for arm, *candidate in sorted(rows, key=lambda r: (r[0], *r[5:])):
            heads[arm].append(_candidate(*candidate))
    return heads


def _lateral(of_group: Callable[[Any], Select], groups: list, where: ColumnElement,
             window: int) -> Select:
    """Every group's query as one lateral join over the list of group keys (PostgreSQL);
    rows come with their group's position in the list."""
    keys = (func.unnest(literal(groups, ARRAY(Integer)))
            .table_valued("key", with_ordinality="arm").render_derived())
    head = of_group(keys.c.key).where(where).limit(window).lateral()
    return select((keys.c.arm - 1).label("arm"), head).select_from(keys).join(head, true())


def _candidate(mention_id: int, sim: float | None, lead: float | None, quote: str,
               *_sort) -> tuple[int, float, float, str]:
    """A quote read for a group: (mention id, similarity, lead, text)."""
    return mention_id, float(sim or 0.0), float(lead or 0.0), quote


def _wording(candidate: tuple[int, float, float, str]) -> str:
    return candidate[3]


def _rows(session: Session, picks: dict) -> dict:
    """Each group's picked candidates as feed rows, with their mentions and calls."""
    read = _mention_rows(session, [c[0] for p in picks.values() for c in p])
    return {g: [Row(read[m][0], read[m][1], sim, read[m][2], lead) for m, sim, lead, _ in p]
            for g, p in picks.items()}


def _mention_rows(session: Session, ids: list[int]) -> dict[int, tuple[Mention, int | None, Call]]:
    """Mentions with their theme and call, without embeddings or raw payloads."""
    if not ids:
        return {}
    query = (select(Mention, ClusterMember.cluster_id, Call)
             .join(ClusterMember, ClusterMember.mention_id == Mention.id, isouter=True)
             .join(Call, Call.id == Mention.call_id)
             .where(Mention.id.in_(ids))  # type: ignore[union-attr]
             .options(load_only(*_MENTION_COLUMNS), load_only(*_CALL_COLUMNS)))
    return {m.id: (m, cid, call) for m, cid, call in session.exec(query)}
