"""SQLModel tables; every row belongs to a workspace."""

from models.call import Call, Participant, Utterance
from models.cluster import Cluster, ClusterEvent, ClusterMember
from models.job import JOB_STATUSES, Job
from models.mention import Mention
from models.roles import RoleCorrection
from models.rollup import CallTag, FeedDay, FeedRollup, FeedTotal
from models.webhook import WebhookDelivery
from models.workspace import ApiKey, CategoryExample, RosterEntry, Workspace

__all__ = [
    "JOB_STATUSES",
    "ApiKey",
    "Call",
    "CallTag",
    "CategoryExample",
    "Cluster",
    "ClusterEvent",
    "ClusterMember",
    "FeedDay",
    "FeedRollup",
    "FeedTotal",
    "Job",
    "Mention",
    "Participant",
    "RoleCorrection",
    "RosterEntry",
    "Utterance",
    "WebhookDelivery",
    "Workspace",
]
