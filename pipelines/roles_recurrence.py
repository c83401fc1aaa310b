"""Who recurs across a workspace's calls: reps run many calls, a prospect appears in a few."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass

from pipelines.roles_names import is_generic, name_key

# A person seen in this many calls opposite this many different people is on our side. A buyer
# with follow-up calls meets the same one or two sellers; three distinct counterparts in three
# calls is what a seller's week looks like.
MIN_CALLS = 3
MIN_COUNTERPARTS = 3


@dataclass(frozen=True)
class Presence:
    """How often one person (a name key) appears in the workspace, and opposite whom."""

    calls: int
    counterparts: int

    @property
    def recurring(self) -> bool:
        return self.calls >= MIN_CALLS and self.counterparts >= MIN_COUNTERPARTS


@dataclass(frozen=True)
class Recurrence:
    """Presence per name key; generic names ("Zoom user") are never a recurring person."""

    presence: dict[str, Presence]

    def of(self, name: str) -> Presence | None:
        return None if is_generic(name) else self.presence.get(name_key(name))

    def recurring(self, name: str) -> bool:
        found = self.of(name)
        return found is not None and found.recurring


NO_RECURRENCE = Recurrence({})


def recurrence(calls: Iterable[tuple[Hashable, Sequence[str]]]) -> Recurrence:
    """From (call id, speaker names) pairs; each generic name is a different person per call."""
    seen: dict[str, set[Hashable]] = defaultdict(set)
    met: dict[str, set[str]] = defaultdict(set)
    for call_id, names in calls:
        people = {_person(call_id, n) for n in names if n.strip()}
        for person in people:
            if person.startswith("\x00"):
                continue
            seen[person].add(call_id)
            met[person] |= people - {person}
    return Recurrence({p: Presence(len(seen[p]), len(met[p])) for p in seen})


def _person(call_id: Hashable, name: str) -> str:
    # generic labels get a per-call identity so they count as distinct counterparts
    return f"\x00{call_id}\x00{name}" if is_generic(name) else name_key(name)
