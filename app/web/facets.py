"""What the pages offer to filter by, and how far a workspace has got (for empty states)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, func, select

from models import Call, CallTag, Cluster, FeedRollup, Mention


@dataclass(frozen=True)
class Facets:
    categories: list[str]
    deal_stages: list[str]
    accounts: list[str]
    tags: list[str]


@dataclass(frozen=True)
class Progress:
    calls: int
    pending: int
    mentions: int
    clusters: int


def facets(*, session: Session, workspace_id: int, kind: str) -> Facets:
    """The distinct values of the workspace's calls and of its mentions of one kind, each one
    indexed query (the feed's summary tables know the mentions' categories)."""
    # a category is offered from its first mention, theme or not
    categories = session.exec(select(FeedRollup.mention_category).distinct().where(
        FeedRollup.workspace_id == workspace_id, FeedRollup.kind == kind,
        FeedRollup.mention_category.is_not(None))).all()
    stages = session.exec(select(Call.deal_stage).distinct().where(
        Call.workspace_id == workspace_id, Call.deal_stage.is_not(None))).all()
    accounts = session.exec(select(Call.account).distinct().where(
        Call.workspace_id == workspace_id, Call.account.is_not(None))).all()
    tags = session.exec(select(CallTag.tag).distinct().where(
        CallTag.workspace_id == workspace_id)).all()
    return Facets(
        categories=sorted(c for c in categories if c),
        deal_stages=sorted(s for s in stages if s),
        accounts=sorted((a for a in accounts if a), key=str.lower),
        tags=sorted(tags),
    )


def progress(*, session: Session, workspace_id: int) -> Progress:
    def count(query) -> int:
        return int(session.exec(query).one() or 0)

    return Progress(
        calls=count(select(func.count(Call.id)).where(Call.workspace_id == workspace_id)),
        pending=count(select(func.count(Call.id)).where(
            Call.workspace_id == workspace_id, Call.status.in_(("queued", "processing")))),
        mentions=count(select(func.count(Mention.id)).where(
            Mention.workspace_id == workspace_id)),
        clusters=count(select(func.count(Cluster.id)).where(
            Cluster.workspace_id == workspace_id, Cluster.active.is_(True))),
    )
