"""A cluster's weekly mention counts, drawn as a small inline SVG on the server."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from markupsafe import Markup, escape

WEEKS = 12


def _utc(value: datetime) -> datetime:
    """Naive UTC, whether the database handed back aware or naive datetimes."""
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value


def weekly_counts(dates: Iterable[datetime | None], *, now: datetime,
                  weeks: int = WEEKS) -> list[int]:
    """Mentions per week, oldest first; the last bucket is the seven days up to `now`."""
    counts = [0] * weeks
    now = _utc(now)
    for when in dates:
        if when is None or _utc(when) > now:
            continue
        bucket = (now - _utc(when)).days // 7
        if bucket < weeks:
            counts[weeks - 1 - bucket] += 1
    return counts


def sparkline_svg(counts: list[int], *, width: int = 120, height: int = 28) -> Markup:
    """A line with a soft area under it and a dot on the latest week."""
    pad = 3
    top = max(max(counts, default=0), 1)
    step = (width - 2 * pad) / max(len(counts) - 1, 1)
    points = [(pad + i * step, height - pad - (height - 2 * pad) * c / top)
              for i, c in enumerate(counts)]
    line = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    area = f"M{pad},{height - pad} L" + " L".join(f"{x:.1f},{y:.1f}" for x, y in points) + (
        f" L{points[-1][0]:.1f},{height - pad} Z")
    label = escape(f"Mentions per week, last {len(counts)} weeks: "
                   + ", ".join(str(c) for c in counts))
    last_x, last_y = points[-1]
    return Markup(
        f'<svg class="spark" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-label="{label}"><title>{label}</title>'
        f'<path class="spark-area" d="{area}"/>'
        f'<polyline class="spark-line" points="{line}"/>'
        f'<circle class="spark-dot" cx="{last_x:.1f}" cy="{last_y:.1f}" r="2.5"/></svg>')
