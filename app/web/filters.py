"""The feed's view state, kept in the URL so that any view can be shared as a link."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from urllib.parse import urlencode

from starlette.datastructures import QueryParams

from app.services.feed import FEED_KINDS, FeedFilters
from models.base import utcnow

KIND_TABS = {"objections": "Objections", "questions": "Questions", "pains": "Pain phrases"}
SORTS = {"score": "Score", "mentions": "Volume", "trend": "Trend"}
OUTCOMES = ("won", "lost", "open")
PAGE_SIZE = 25
MAX_LIMIT = 500


def _date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _choice(value: str | None, allowed: Mapping[str, Any] | tuple[str, ...], default: str) -> str:
    return value if value in allowed else default


@dataclass(frozen=True)
class FeedQuery:
    kind: str = "objections"
    since: date | None = None
    until: date | None = None
    category: str = ""
    deal_stage: str = ""
    outcome: str = ""
    account: str = ""
    tags: tuple[str, ...] = ()
    sort: str = "score"
    limit: int = PAGE_SIZE
    roles: str = ""  # "confident": leave out calls whose speaker roles are unsure

    @classmethod
    def from_params(cls, params: QueryParams) -> FeedQuery:
        """Lenient on purpose: a hand-edited URL shows a page, never a validation error."""
        limit = params.get("limit", "")
        return cls(
            kind=_choice(params.get("kind"), KIND_TABS, "objections"),
            since=_date(params.get("since")), until=_date(params.get("until")),
            category=params.get("category", "").strip(),
            deal_stage=params.get("deal_stage", "").strip(),
            outcome=_choice(params.get("outcome"), OUTCOMES, ""),
            account=params.get("account", "").strip(),
            tags=tuple(dict.fromkeys(t.strip() for t in params.getlist("tags") if t.strip())),
            sort=_choice(params.get("sort"), SORTS, "score"),
            limit=min(MAX_LIMIT, max(1, int(limit))) if limit.isascii() and limit.isdigit()
            else PAGE_SIZE,
            roles=_choice(params.get("roles"), ("confident",), ""),
        )

    @property
    def mention_kind(self) -> str:
        return FEED_KINDS[self.kind]

    def filters(self) -> FeedFilters:
        """Dates are whole UTC days: `until` includes the last day."""
        tz = utcnow().tzinfo  # stored datetimes are compared in the models' own convention
        return FeedFilters(
            since=datetime.combine(self.since, time.min, tzinfo=tz) if self.since else None,
            until=datetime.combine(self.until, time.max, tzinfo=tz) if self.until else None,
            category=self.category or None, deal_stage=self.deal_stage or None,
            outcome=self.outcome or None, account=self.account or None, tags=self.tags,
            confident_roles=self.roles == "confident")

    @property
    def filtered(self) -> bool:
        return any((self.since, self.until, self.category, self.deal_stage, self.outcome,
                    self.account, self.tags, self.roles))

    def params(self, *, keep_limit: bool = True) -> list[tuple[str, str]]:
        """Only what differs from the defaults, so links stay short."""
        out: list[tuple[str, str]] = []
        default = FeedQuery()
        for f in fields(self):
            value = getattr(self, f.name)
            if value == getattr(default, f.name) or (f.name == "limit" and not keep_limit):
                continue
            if f.name == "tags":
                out.extend(("tags", t) for t in value)
            else:
                out.append((f.name, value.isoformat() if isinstance(value, date) else str(value)))
        return out

    def url(self, path: str = "/", **changes: Any) -> str:
        changed = replace(self, **changes)
        query = urlencode(changed.params(keep_limit="limit" in changes))
        return f"{path}?{query}" if query else path


# a link the page makes is far shorter; longer ones are parsed each time: uvicorn (httptools)
# serves query strings of up to ~64 KB, and 1024 of those kept held ~50 MB of one reader's junk
CACHED_QUERY_BYTES = 2048


def feed_query(query_string: bytes) -> FeedQuery:
    """The view a raw query string asks for, parsed once: the feed page's readers send the same
    few again and again, and parsing was a tenth of a cached page's CPU."""
    if len(query_string) > CACHED_QUERY_BYTES:
        return FeedQuery.from_params(QueryParams(query_string))
    return _parsed(query_string)


@lru_cache(maxsize=1024)
def _parsed(query_string: bytes) -> FeedQuery:
    return FeedQuery.from_params(QueryParams(query_string))


@dataclass(frozen=True)
class Preset:
    label: str
    url: str
    active: bool


def presets(query: FeedQuery, today: date) -> list[Preset]:
    """One-click views; clicking an active preset switches it off again."""
    last30, last90 = today - timedelta(days=30), today - timedelta(days=90)

    def window(label: str, since: date) -> Preset:
        active = query.since == since and query.until is None
        return Preset(label, query.url(since=None if active else since, until=None), active)

    def outcome(label: str, value: str) -> Preset:
        active = query.outcome == value
        return Preset(label, query.url(outcome="" if active else value), active)

    return [window("Last 30 days", last30), window("Last 90 days", last90),
            outcome("Lost deals", "lost"), outcome("Won deals", "won"),
            outcome("Open deals", "open")]
