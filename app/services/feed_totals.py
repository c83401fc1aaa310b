"""Keeps each feed group's totals (models/rollup.py's FeedTotal) in step with its summary rows.

A rebuild counts them afresh. A call's change moves them by that call's part alone: its mentions
and confident mentions add up, and the call counts once in each group it has a row in. Only an
account needs a look beyond the call: it leaves a group's count when no other call of that
account has a row there (an indexed look-up), so a call's cost does not grow with its groups'.
Called from app/services/rollups.py, inside the change's transaction, after it bumped the
workspace's feed version: that row stays locked until the commit, so two changes of one
workspace never interleave here (on PostgreSQL the second waits, then reads the first's rows).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, case, delete, distinct, func, insert, update
from sqlmodel import Session, select

from models import FeedRollup, FeedTotal

R, T = FeedRollup, FeedTotal
TOTALS = ("mentions", "calls", "accounts", "confident", "confident_calls", "confident_accounts",
          "lost_calls", "won_calls", "recency_weight")
OTHER = ("other_mentions", "other_calls")
# a weights' sum less a part this much larger than what is left keeps too few of a float's 53
# bits: what is left is summed from rows instead. Stored weights double every 30 days
# (pipelines/rank.py), so a call dated years ahead outweighs all others together.
LOST_PRECISION = 2.0 ** -20
# a call's rows as the totals and the day buckets (feed_days.py) read them
CALL_ROW = (R.kind, R.cluster_id, R.category, R.mentions, R.confident, R.recency_weight,
            R.account, R.outcome, R.at_us)


def total_columns(up_to_us: int | None = None) -> list:
    """What a group's rows add up to, in TOTALS' order. Each call sits in one row per group and
    mention category, so calls and accounts are counted with DISTINCT; lost and won count calls
    with a confident mention. up_to_us: the weights of rows dated up to then only (summed
    apart, not subtracted: a date years ahead weighs more than all the others together)."""
    confident = R.confident > 0
    weights = R.recency_weight if up_to_us is None else case(
        (R.at_us <= up_to_us, R.recency_weight), else_=0.0)
    return [
        func.sum(R.mentions),
        func.count(distinct(R.call_id)),
        func.count(distinct(case((R.account != "", R.account)))),
        func.sum(R.confident),
        func.count(distinct(case((confident, R.call_id)))),
        func.count(distinct(case((and_(confident, R.account != ""), R.account)))),
        func.count(distinct(case((and_(confident, R.outcome == "lost"), R.call_id)))),
        func.count(distinct(case((and_(confident, R.outcome == "won"), R.call_id)))),
        func.sum(weights),
    ]


def other_columns() -> list:
    """A category's other group: its mentions and distinct calls, in OTHER's order."""
    other = R.cluster_id.is_(None)
    return [func.sum(case((other, R.mentions), else_=0)),
            func.count(distinct(case((other, R.call_id))))]


def rebuild_totals(*, session: Session, workspace_id: int, kind: str) -> None:
    """Counts every theme's and category's totals of one kind afresh."""
    session.execute(delete(T).where(T.workspace_id == workspace_id, T.kind == kind))
    where = (R.workspace_id == workspace_id, R.kind == kind)
    themes = session.exec(select(R.cluster_id, func.max(R.category), *total_columns())
                          .where(*where, R.cluster_id.is_not(None))
                          .group_by(R.cluster_id)).all()
    categories = session.exec(select(R.category, *total_columns(), *other_columns())
                              .where(*where).group_by(R.category)).all()
    rows = [(cid, category, *values, 0, 0) for cid, category, *values in themes]
    rows += [(None, *values) for values in categories]
    if rows:
        fields = ("cluster_id", "category", *TOTALS, *OTHER)
        session.execute(insert(T), [
            {"workspace_id": workspace_id, "kind": kind,
             **{f: v if f in ("cluster_id", "category") else v or 0
                for f, v in zip(fields, row, strict=True)}} for row in rows])


def call_rows(session: Session, call_id: int) -> list[tuple]:
    """A call's summary rows (CALL_ROW), read before and after it changes."""
    return list(session.exec(select(*CALL_ROW).where(R.call_id == call_id)).all())


def move_totals(*, session: Session, workspace_id: int, call_id: int, before: list[tuple],
                after: list[tuple]) -> None:
    """Moves the totals of every group the call is or was in by the call's change."""
    rows = before + after
    groups = {(kind, cid, None) for kind, cid, *_ in rows if cid is not None}
    groups |= {(kind, None, category) for kind, _, category, *_ in rows}
    for kind, cluster_id, category in groups:
        group = _Group(workspace_id, kind, cluster_id, category, call_id)
        old, new = group.mine(before), group.mine(after)
        _move(session, group, _Part.of(old), _Part.of(new),
              category=next((r[2] for r in new + old), None))


@dataclass(frozen=True)
class _Group:
    workspace_id: int
    kind: str
    cluster_id: int | None  # a theme; None: a category (its themes and its other group)
    category: str | None
    call_id: int  # the call that changed

    def mine(self, rows: list[tuple]) -> list[tuple]:
        """The call's rows (CALL_ROW) in this group."""
        return [r for r in rows if r[0] == self.kind and (
            r[1] == self.cluster_id if self.cluster_id is not None else r[2] == self.category)]

    def rows(self) -> list[ColumnElement]:
        where = [R.workspace_id == self.workspace_id, R.kind == self.kind]
        if self.cluster_id is not None:
            return [*where, R.cluster_id == self.cluster_id]
        return [*where, same(R.category, self.category)]

    def total(self) -> list[ColumnElement]:
        where = [T.workspace_id == self.workspace_id, T.kind == self.kind]
        if self.cluster_id is not None:
            return [*where, T.cluster_id == self.cluster_id]
        return [*where, T.cluster_id.is_(None), same(T.category, self.category)]


@dataclass(frozen=True)
class _Part:
    """One call's part in one group's totals."""

    values: dict[str, float]
    account: str | None  # counted accounts: neither None nor ""
    confident_account: str | None

    @classmethod
    def of(cls, rows: Sequence[tuple]) -> _Part:
        confident = sum(r[4] for r in rows)
        outcome = rows[0][7] if rows else None
        account = rows[0][6] if rows and rows[0][6] else None
        other = [r for r in rows if r[1] is None]
        values = {
            "mentions": sum(r[3] for r in rows), "calls": int(bool(rows)),
            "confident": confident, "confident_calls": int(confident > 0),
            "lost_calls": int(confident > 0 and outcome == "lost"),
            "won_calls": int(confident > 0 and outcome == "won"),
            "recency_weight": sum(r[5] for r in rows),
            "other_mentions": sum(r[3] for r in other), "other_calls": int(bool(other)),
        }
        return cls(values, account, account if confident > 0 else None)


def _move(session: Session, group: _Group, old: _Part, new: _Part,
          category: str | None) -> None:
    """Adds the call's new part less its old one to the group's totals row."""
    change = {f: new.values[f] - old.values[f] for f in new.values}
    for field, was, now, confident in (("accounts", old.account, new.account, False),
                                       ("confident_accounts", old.confident_account,
                                        new.confident_account, True)):
        change[field] = 0
        if was != now:
            if was is not None and not _elsewhere(session, group, was, confident):
                change[field] -= 1
            if now is not None and not _elsewhere(session, group, now, confident):
                change[field] += 1
    if not any(change.values()):
        return
    found = session.exec(select(T.id, T.calls, T.recency_weight).where(*group.total())).first()
    if found is None:
        session.execute(insert(T).values(
            workspace_id=group.workspace_id, kind=group.kind, cluster_id=group.cluster_id,
            category=category, **change))
    elif found[1] + change["calls"] == 0:  # the group's last call left it
        session.execute(delete(T).where(T.id == found[0]))
    else:
        values = {f: getattr(T, f) + v for f, v in change.items() if v}
        weights = change["recency_weight"]
        if weights < 0 and found[2] + weights < found[2] * LOST_PRECISION:
            values["recency_weight"] = select(func.coalesce(func.sum(R.recency_weight), 0.0)) \
                .where(*group.rows()).scalar_subquery()
        session.execute(update(T).where(T.id == found[0]).values(**values))


def _elsewhere(session: Session, group: _Group, account: str, confident: bool) -> bool:
    """Whether another call of this account has a row (a confident one) in the group."""
    query = select(R.id).where(*group.rows(), R.account == account, R.call_id != group.call_id)
    if confident:
        query = query.where(R.confident > 0)
    return session.exec(query.limit(1)).first() is not None


def same(column, value) -> ColumnElement:
    """column = value, where None means NULL (an uncategorised group)."""
    return column.is_(None) if value is None else column == value


def one_of(column, values: set | list) -> ColumnElement:
    """column IN values, where a None among them means NULL."""
    known = [v for v in values if v is not None]
    condition = column.in_(known)
    return condition | column.is_(None) if len(known) < len(values) else condition
