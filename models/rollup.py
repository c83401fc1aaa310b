"""Summary tables the feed reads instead of every mention: one row per call and feed group.

A feed group is a theme (cluster_id set) or a category's other group (cluster_id None). Each row
counts one call's mentions in that group and copies the call facts the feed filters and ranks
by, so a feed request aggregates these rows and never touches mentions or embeddings. (Role
confidence is not copied: it changes in place, so `roles=confident` asks the call table.)
`app/services/rollups.py` keeps them in step with mentions, memberships and calls, in the same
transaction as the change.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Text, text
from sqlmodel import Field, SQLModel


class FeedRollup(SQLModel, table=True):
    __tablename__ = "feed_rollup"
    __table_args__ = (
        # a group's rows, by account: whether another call of an account is in the group
        Index("ix_feed_rollup_group", "workspace_id", "kind", "cluster_id", "account"),
        # an other group's rows newest first, for its quotes (partial: PostgreSQL orders by an
        # index's later column only after equalities, and cluster_id IS NULL is not one)
        Index("ix_feed_rollup_other", "workspace_id", "kind", "category", "at_us",
              postgresql_where=text("cluster_id IS NULL"), sqlite_where=text("cluster_id IS NULL")),
        Index("ix_feed_rollup_category", "workspace_id", "kind", "category", "account"),
        # the last weeks' rows: the recent and previous windows, the future-dated
        Index("ix_feed_rollup_time", "workspace_id", "kind", "at_us"),
        # a call's row in a group: filtered quotes check each member's call here
        Index("ix_feed_rollup_call", "call_id", "workspace_id", "kind", "cluster_id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id")
    kind: str = Field(max_length=12)
    cluster_id: int | None = Field(default=None, foreign_key="cluster.id")
    # the group's category: the theme's, or the mentions' own in an other group
    category: str | None = Field(default=None, max_length=40)
    # the mentions' own category (a theme can hold a few of another category)
    mention_category: str | None = Field(default=None, max_length=40)
    call_id: int = Field(foreign_key="call.id")
    # when the call happened (started_at, else created_at): microseconds since 1970 UTC, exact
    at_us: int = Field(sa_column=Column(BigInteger, nullable=False))
    outcome: str | None = Field(default=None, max_length=10)
    deal_stage: str | None = Field(default=None, max_length=100)
    account: str | None = Field(default=None, max_length=300)
    mentions: int = 0
    confident: int = 0  # mentions at or above the feed's confidence: the ones a score counts
    # confident x 2^((at - RECENCY_ORIGIN) / half-life): summed, it gives the mean recency
    recency_weight: float = 0.0


class FeedTotal(SQLModel, table=True):
    """A feed group's totals over all its rows, for the feed without filters: one row per theme
    (cluster_id set) and one per category (cluster_id None; its other group's size too).

    Distinct calls and accounts cannot be added up from per-call rows at read without a DISTINCT
    over all of them, so they are kept here, moved by each change (app/services/feed_totals.py).
    What moves with the clock (the 30-day windows, dates after `now`) is summed from recent rows
    at read.
    """

    __tablename__ = "feed_total"
    __table_args__ = (Index("ix_feed_total_group", "workspace_id", "kind", "cluster_id",
                            "category"),)
    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id")
    kind: str = Field(max_length=12)
    cluster_id: int | None = Field(default=None, foreign_key="cluster.id")
    category: str | None = Field(default=None, max_length=40)
    mentions: int = 0
    calls: int = 0
    accounts: int = 0
    confident: int = 0
    confident_calls: int = 0
    confident_accounts: int = 0
    lost_calls: int = 0  # calls with a confident mention, by outcome
    won_calls: int = 0
    recency_weight: float = 0.0
    other_mentions: int = 0  # a category's: its other group's
    other_calls: int = 0


class FeedDay(SQLModel, table=True):
    """A feed group's rows summed per day (UTC; day = at_us // one day's microseconds).

    What moves with the clock (the ranking's 30-day windows, the sparklines' weeks) sums these,
    at most a row per group and day, instead of one row per call: only the days a window's edge
    falls in are read from the calls' rows (app/services/feed_days.py).
    """

    __tablename__ = "feed_day"
    __table_args__ = (
        # the last weeks of every group, for the windows; covering, so that they are summed
        # from the index alone (a third of the time of reading each row)
        Index("ix_feed_day_time", "workspace_id", "kind", "day", "cluster_id", "category",
              "confident", "recency_weight"),
        # a theme's days, for its sparkline (covering too)
        Index("ix_feed_day_theme", "cluster_id", "day", "mentions"),
    )
    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id")
    kind: str = Field(max_length=12)
    cluster_id: int | None = Field(default=None, foreign_key="cluster.id")
    category: str | None = Field(default=None, max_length=40)
    day: int
    mentions: int = 0
    confident: int = 0
    recency_weight: float = 0.0


class CallTag(SQLModel, table=True):
    """A call's tags one per row, so that the feed's tag filter is an indexed lookup."""

    __tablename__ = "call_tag"
    __table_args__ = (Index("ix_call_tag_lookup", "workspace_id", "tag", "call_id"),)
    call_id: int = Field(foreign_key="call.id", primary_key=True)
    tag: str = Field(sa_column=Column(Text, primary_key=True))  # tags have no length limit
    workspace_id: int = Field(foreign_key="workspace.id")
