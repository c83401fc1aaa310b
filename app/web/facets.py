"""What the pages offer to filter by, and how far a workspace has got (for empty states)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, func, select

from models import Call, CallTag, Cluster, FeedTotal, Mention

# Up to this many accounts the page offers them all in a list; beyond, the account is typed,
# with the most-called accounts suggested (a list of thousands helps no one, and weighs the page)
ACCOUNT_CHOICES = 200


@dataclass(frozen=True)
class Facets:
    categories: list[str]
    deal_stages: list[str]
    accounts: list[str]  # all of them, or the ACCOUNT_CHOICES most-called when more_accounts
    tags: list[str]
    more_accounts: bool = False


@dataclass(frozen=True)
class Progress:
    calls: int
    pending: int
    mentions: int
    clusters: int


def facets(*, session: Session, workspace_id: int, kind: str) -> Facets:
    """The distinct values of the workspace's calls and of its feed groups of one kind, each one
    indexed query (the feed's totals know the categories)."""
    # a category is offered from its first mention, theme or not: as the filter reads it, the
    # category of the theme or other group holding the mention
    categories = session.exec(select(FeedTotal.category).where(
        FeedTotal.workspace_id == workspace_id, FeedTotal.kind == kind,
        FeedTotal.cluster_id.is_(None), FeedTotal.category.is_not(None))).all()
    stages = session.exec(select(Call.deal_stage).distinct().where(
        Call.workspace_id == workspace_id, Call.deal_stage.is_not(None))).all()
    calls = func.count(Call.id)
    accounts = session.exec(select(Call.account).where(
        Call.workspace_id == workspace_id, Call.account.is_not(None), Call.account != "")
        .group_by(Call.account).order_by(calls.desc(), Call.account)
        .limit(ACCOUNT_CHOICES + 1)).all()
    tags = session.exec(select(CallTag.tag).distinct().where(
        CallTag.workspace_id == workspace_id)).all()
    return Facets(
        categories=sorted(c for c in categories if c),
        deal_stages=sorted(s for s in stages if s),
        accounts=sorted(accounts[:ACCOUNT_CHOICES], key=str.lower),
        tags=sorted(tags),
        more_accounts=len(accounts) > ACCOUNT_CHOICES,
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
