"""notifications: notifications, email preferences, used unsubscribe tokens, fan-outs

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from blog_graphql.db import database

revision: str = "0008"
# The lead chains the second round's migrations at merge; this branch holds h2's 0007
# (the follows table the fan-out reads), so it sits on 0007 here.
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column],
        [f"{target}.id"],
        name=op.f(f"fk_{table}_{column}_{target}"),
        ondelete="CASCADE",
    )


def _at(name: str, nullable: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, database.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recipient_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("comment_id", sa.Integer(), nullable=True),
        sa.Column("subject_key", sa.String(length=40), nullable=False),
        _at("created_at"),
        _at("read_at", nullable=True),
        _at("email_pending_since", nullable=True),
        _fk("notifications", "recipient_id", "users"),
        _fk("notifications", "actor_id", "users"),
        _fk("notifications", "post_id", "posts"),
        _fk("notifications", "comment_id", "comments"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
        sa.UniqueConstraint(
            "recipient_id", "subject_key", name="uq_notifications_recipient_subject"
        ),
    )
    op.create_index("ix_notifications_recipient_id", "notifications", ["recipient_id", "id"])
    for column in ("actor_id", "post_id", "comment_id", "email_pending_since"):
        op.create_index(op.f(f"ix_notifications_{column}"), "notifications", [column])
    op.create_table(
        "email_preferences",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("comments_on_my_posts", sa.Boolean(), nullable=False),
        sa.Column("replies_to_me", sa.Boolean(), nullable=False),
        sa.Column("new_posts_by_followed", sa.Boolean(), nullable=False),
        sa.Column("mentions", sa.Boolean(), nullable=False),
        _at("updated_at"),
        _fk("email_preferences", "user_id", "users"),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_email_preferences")),
    )
    op.create_table(
        "used_unsubscribe_tokens",
        sa.Column("token_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        _at("used_at"),
        _fk("used_unsubscribe_tokens", "user_id", "users"),
        sa.PrimaryKeyConstraint("token_id", name=op.f("pk_used_unsubscribe_tokens")),
    )
    op.create_index(
        op.f("ix_used_unsubscribe_tokens_user_id"), "used_unsubscribe_tokens", ["user_id"]
    )
    op.create_table(
        "notification_fanouts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=False),
        _at("created_at"),
        _at("next_attempt_at", nullable=True),
        _at("done_at", nullable=True),
        _fk("notification_fanouts", "post_id", "posts"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_fanouts")),
    )
    for column in ("post_id", "done_at"):
        op.create_index(op.f(f"ix_notification_fanouts_{column}"), "notification_fanouts", [column])


def downgrade() -> None:
    op.drop_table("notification_fanouts")
    op.drop_table("used_unsubscribe_tokens")
    op.drop_table("email_preferences")
    op.drop_table("notifications")
