"""The feedback table: one correction (or confirmation) per row.

Revision ID: 0001
Revises: (none)
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "feedback",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("pixels", sa.LargeBinary, nullable=False),  # 784 bytes, row by row, 0 = background, 255 = ink
        sa.Column("strokes", sa.Text, nullable=True),  # JSON: [[[x, y], ...], ...] as the page drew them
        sa.Column("label", sa.SmallInteger, nullable=False),  # the digit the person says it is
        sa.Column("predicted", sa.SmallInteger, nullable=False),  # the digit the model answered
        sa.Column("model_id", sa.String(64), nullable=False),
        sa.CheckConstraint("label BETWEEN 0 AND 9", name="label_is_digit"),
        sa.CheckConstraint("predicted BETWEEN 0 AND 9", name="predicted_is_digit"),
    )


def downgrade() -> None:
    op.drop_table("feedback")
