"""What the pages offer to filter by, and how far a workspace has got (for empty states)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, func, select

from models import Call, Cluster, Mention


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
    """The distinct values of the workspace's calls and of its mentions of one kind."""
    calls = session.exec(select(Call.deal_stage, Call.account, Call.tags)
                         .where(Call.workspace_id == workspace_id)).all()
    # a category is offered from its first mention, theme or not
    categories = session.exec(select(Mention.category).distinct().where(
        Mention.workspace_id == workspace_id, Mention.kind == kind,
        Mention.category.is_not(None))).all()
    return Facets(
        categories=sorted(c for c in categories if c),
        deal_stages=sorted({s for s, _, _ in calls if s}),
        accounts=sorted({a for _, a, _ in calls if a}, key=str.lower),
        tags=sorted({t for _, _, tags in calls for t in (tags or [])}),
    )


def progress(*, session: Session, workspace_id: int) -> Progress:
    def count(query) -> int:
        return int(session.exec(query).one())

    return Progress(
        calls=count(select(func.count(Call.id)).where(Call.workspace_id == workspace_id)),
        pending=count(select(func.count(Call.id)).where(
            Call.workspace_id == workspace_id, Call.status.in_(("queued", "processing")))),
        mentions=count(select(func.count(Mention.id)).where(
            Mention.workspace_id == workspace_id)),
        clusters=count(select(func.count(Cluster.id)).where(
            Cluster.workspace_id == workspace_id, Cluster.active.is_(True))),
    )
