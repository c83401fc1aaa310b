"""Whether a rebuild refits a kind or grows its last clustering (a warm start).

A big kind's fit is already a sampled one: FIT_SAMPLE rows are clustered and every other row joins
its nearest centroid. Mentions that arrived since are placed the same way by a warm start, which
skips the fit (~30 s of CPU at 100k) and keeps every id, label and member. A refit runs when
enough has changed for new themes to be likely, when asked for, or where a fit is cheap anyway.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, func, select

from models import Cluster, ClusterEvent
from pipelines.cluster import FIT_SAMPLE

# A rebuild refits once more than this share of a kind's mentions arrived after its last fit:
# new mentions that no theme takes (a new theme forming) are counted with the placed ones.
REFIT_SHARE = 0.1
# Below this many mentions a kind is always refitted: its fit takes seconds and, fitted whole,
# finds themes that a warm start would leave in the other group.
WARM_START_MIN = FIT_SAMPLE
# The events a fit records on every cluster it leaves; a warm start records neither.
FIT_EVENTS = ("created", "kept")


def needs_refit(*, session: Session, workspace_id: int, kind: str,
                arrivals: list[datetime], has_clusters: bool) -> bool:
    """Whether the kind (its mentions' creation times in arrivals) needs a full fit."""
    if not has_clusters or len(arrivals) < WARM_START_MIN:
        return True
    fitted = last_fit(session=session, workspace_id=workspace_id, kind=kind)
    if fitted is None:
        return True
    arrived = sum(1 for t in arrivals if t >= fitted)
    return arrived > REFIT_SHARE * len(arrivals)


def last_fit(*, session: Session, workspace_id: int, kind: str) -> datetime | None:
    """When the kind's current clustering was fitted: the rebuild stamps its fit events with the
    time it began reading mentions, so what arrived while it ran counts as new."""
    return session.exec(
        select(func.max(ClusterEvent.created_at))
        .join(Cluster, Cluster.id == ClusterEvent.cluster_id)
        .where(ClusterEvent.workspace_id == workspace_id, Cluster.kind == kind,
               ClusterEvent.event.in_(FIT_EVENTS))).one()  # type: ignore[attr-defined]
