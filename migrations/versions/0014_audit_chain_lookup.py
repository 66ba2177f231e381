"""The audit chain at commit: find a transaction's first event by its primary key.

Revision ID: 0014_audit_chain_lookup
Revises: 0013_roads
Create Date: 2026-11-28

`audit.chain()` runs once per event at commit and first asks whether its event is still
unchained: `WHERE id = NEW.id AND seq IS NULL`. PostgreSQL answered that through the partial
index `ix_audit_events_unchained (xact) WHERE seq IS NULL`, filtering on id: inside a large
transaction that index holds an entry for every event of the transaction (the first call
chains them all, leaving the old entries until vacuum), so each call read them all — quadratic
in the transaction's size. A 100,000-site demo load (several hundred thousand events) did not
commit in 15 minutes. Reading the event by its primary key alone keeps each call constant.

The function is otherwise unchanged: the migration edits its current definition (two exact
replacements, checked) rather than repeating the hash expression of 0007_audit.
"""

from collections.abc import Sequence

from alembic import op
from sqlalchemy import text

revision: str = "0014_audit_chain_lookup"
down_revision: str | Sequence[str] | None = "0013_roads"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_CHECK = "IF NOT EXISTS (SELECT 1 FROM audit.events WHERE id = NEW.id AND seq IS NULL) THEN"
NEW_CHECK = (
    "SELECT e.seq INTO chained FROM audit.events e WHERE e.id = NEW.id;\n"
    "          IF chained IS NOT NULL THEN"
)
OLD_DECLARE = "h text;\n"
NEW_DECLARE = "h text;\n          chained bigint;\n"


def _rewrite(pairs: list[tuple[str, str]]) -> None:
    body = (
        op.get_bind()
        .execute(text("SELECT pg_get_functiondef('audit.chain()'::regprocedure)"))
        .scalar_one()
    )
    for old, new in pairs:
        if body.count(old) != 1:
            raise RuntimeError(f"audit.chain() is not the expected definition: {old!r}")
        body = body.replace(old, new)
    op.get_bind().exec_driver_sql(body)


def upgrade() -> None:
    _rewrite([(OLD_DECLARE, NEW_DECLARE), (OLD_CHECK, NEW_CHECK)])


def downgrade() -> None:
    _rewrite([(NEW_CHECK, OLD_CHECK), (NEW_DECLARE, OLD_DECLARE)])
