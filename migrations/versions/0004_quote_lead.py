"""quote order by lead

A theme's quotes are read in order of each member's lead (its similarity to the theme, plus its
mention's confidence for an objection) instead of its similarity alone; the leads of the members
a database already holds are counted here, as app/services/feed.py's quote_lead counts them.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 18:00:20.379461
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # the server default only lets the NOT NULL column be added to the rows already there; they
    # are filled at once and it is dropped, so that new rows must name their lead
    with op.batch_alter_table('clustermember', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lead', sa.Float(), nullable=False, server_default='0'))
    op.execute("UPDATE clustermember SET lead = similarity + (SELECT CASE WHEN mention.kind = "
               "'objection' THEN mention.confidence ELSE 0 END "
               "FROM mention WHERE mention.id = clustermember.mention_id)")
    with op.batch_alter_table('clustermember', schema=None) as batch_op:
        batch_op.alter_column('lead', server_default=None)
        batch_op.drop_index('ix_clustermember_ranked')
        batch_op.create_index('ix_clustermember_ranked', ['cluster_id', 'lead'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('clustermember', schema=None) as batch_op:
        batch_op.drop_index('ix_clustermember_ranked')
        batch_op.create_index('ix_clustermember_ranked', ['cluster_id', 'similarity'], unique=False)
        batch_op.drop_column('lead')
