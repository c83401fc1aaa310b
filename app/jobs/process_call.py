"""Process one call: resolve speaker roles, extract mentions, embed them, place them in clusters."""

from __future__ import annotations

from sqlalchemy import delete
from sqlmodel import Session, select

from app.jobs.placement import place_new_mentions, unclustered_count
from app.jobs.roles import apply_roles, decide_roles, participants_of, requeue_after_recurrence
from app.nlp import Models
from app.services import rollups
from app.services.calls import mentions as call_mentions
from app.services.calls import utterances as call_utterances
from app.services.jobs import enqueue, pending_rebuild
from app.services.taxonomy import workspace_taxonomy
from models import Call, Cluster, ClusterMember, Job, Mention, Utterance
from models.base import utcnow
from pipelines.embed import SentenceEmbedder
from pipelines.extract import Extractor
from pipelines.vectors import pack

# a rebuild is queued once this many mentions (and this share of all) have no cluster
REBUILD_MIN_LOOSE = 50
REBUILD_LOOSE_SHARE = 0.3
# customer turns run through the models at a time (bounds a long call's memory)
EXTRACT_CHUNK_TURNS = 256


def process_call(*, session: Session, job: Job, models: Models) -> None:
    """The models run before anything is written, so the write transaction stays short."""
    call = session.get(Call, job.call_id)
    if call is None:  # deleted since it was queued: nothing to do
        return
    utts = call_utterances(session=session, call_id=call.id)
    participants = participants_of(session=session, call_id=call.id)
    decisions = decide_roles(session=session, call=call, utts=utts, participants=participants)
    roles = {name: d.role for name, d in decisions.items()}
    extractor = models.extractor_for(
        workspace_taxonomy(session=session, workspace_id=call.workspace_id))
    new = _extract(call=call, utts=utts, roles=roles, extractor=extractor,
                   embedder=models.embedder)
    apply_roles(session=session, call=call, utts=utts, participants=participants,
                decisions=decisions)
    removed = _clear_mentions(session=session, call=call)
    session.add_all(new)
    session.flush()
    models.vectors.on_commit(session=session, workspace_id=call.workspace_id, added=new,
                             removed=removed)
    place_new_mentions(session=session, workspace_id=call.workspace_id, mentions=new)
    call.status, call.updated_at = "processed", utcnow()
    session.add(call)
    rollups.refresh_call(session=session, call=call)
    requeue_after_recurrence(session=session, call=call)
    _maybe_queue_rebuild(session=session, workspace_id=call.workspace_id)


def _clear_mentions(*, session: Session, call: Call) -> list[int]:
    """Deletes the call's mentions (and their memberships); returns their ids."""
    old = call_mentions(session=session, call_id=call.id)
    if not old:
        return []
    ids = [m.id for m in old]
    touched = set(session.exec(select(ClusterMember.cluster_id)
                               .where(ClusterMember.mention_id.in_(ids))))
    session.execute(delete(ClusterMember).where(ClusterMember.mention_id.in_(ids)))
    session.execute(delete(Mention).where(Mention.id.in_(ids)))
    session.flush()
    for cluster_id in touched:
        cluster = session.get(Cluster, cluster_id)
        if cluster is not None:
            cluster.size = len(session.exec(select(ClusterMember.mention_id)
                                            .where(ClusterMember.cluster_id == cluster_id)).all())
            session.add(cluster)
    return ids


def _extract(*, call: Call, utts: list[Utterance], roles: dict[str, str],
             extractor: Extractor, embedder: SentenceEmbedder) -> list[Mention]:
    """Mentions from the customer's turns only, embedded; nothing is written here.

    A long call goes through in chunks of turns, so the models' intermediate results (parsed
    documents, segment vectors) of one chunk are freed before the next: memory stays bounded
    by the chunk, not the call."""
    customer = [u for u in utts if roles.get(u.speaker) == "customer"]
    contexts = _preceding_rep_turns(utts, roles)
    rows: list[Mention] = []
    for start in range(0, len(customer), EXTRACT_CHUNK_TURNS):
        chunk = customer[start:start + EXTRACT_CHUNK_TURNS]
        found = extractor.extract([u.text for u in chunk], [contexts.get(u.id) for u in chunk])
        new: list[Mention] = []
        for utt, mentions in zip(chunk, found, strict=True):
            for m in mentions:
                new.append(Mention(
                    workspace_id=call.workspace_id, call_id=call.id, utterance_id=utt.id,
                    kind=m.kind, category=m.category, confidence=float(m.confidence),
                    text=m.text, start_char=m.start, end_char=m.end, start_ms=utt.start_ms,
                    speaker=utt.speaker, context=contexts.get(utt.id),
                    key_phrases=list(m.key_phrases)))
        vectors = embedder.encode([m.text for m in new])
        for row, vec in zip(new, vectors, strict=True):
            row.embedding = pack(vec)
        rows += new
    return rows


def _preceding_rep_turns(utts: list[Utterance], roles: dict[str, str]) -> dict[int, str]:
    """For each utterance, the text of the last rep turn before it (what triggered it)."""
    out: dict[int, str] = {}
    last_rep: str | None = None
    for u in utts:
        is_rep = roles.get(u.speaker) == "rep"
        if last_rep is not None and not is_rep:
            out[u.id] = last_rep
        if is_rep:
            last_rep = u.text
    return out


def _maybe_queue_rebuild(*, session: Session, workspace_id: int) -> None:
    """Queue a re-cluster when nothing is clustered yet or too much is left unplaced."""
    if pending_rebuild(session=session, workspace_id=workspace_id) is not None:
        return
    has_clusters = session.exec(select(Cluster.id).where(
        Cluster.workspace_id == workspace_id, Cluster.active.is_(True)).limit(1)).first()
    loose, total = unclustered_count(session=session, workspace_id=workspace_id)
    if total and (has_clusters is None or loose > max(REBUILD_MIN_LOOSE, REBUILD_LOOSE_SHARE * total)):
        enqueue(session=session, workspace_id=workspace_id, kind="rebuild")
