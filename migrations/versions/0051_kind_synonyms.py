"""The district office's own words for the kinds of illegal construction (违建类型同义词).

Revision ID: 0051_kind_synonyms
Revises: 0050_site_kind_label
Create Date: 2026-12-06

A ledger import records a street's own word for a kind as the kind of the longest synonym it
contains: the built-in ones, GIS_APP_KIND_SYNONYMS, and these, which the office edits on the
page 违建类型同义词 (they win over the other two). District data: every site role reads them,
the district roles write them (row-level security); audited row by row.
"""

from collections.abc import Sequence

from alembic import op

from gis_app.core.db_security import (
    DISTRICT,
    STREET,
    audit_table,
    force_rls,
    grant,
    role_in,
    unaudit_table,
    unprotect,
)

revision: str = "0051_kind_synonyms"
down_revision: str | Sequence[str] | None = "0050_site_kind_label"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE kind_synonyms (
            id serial PRIMARY KEY,
            district_code varchar(12) NOT NULL REFERENCES districts (code),
            word varchar(64) NOT NULL CHECK (btrim(word) <> ''),
            kind varchar(32) NOT NULL,
            created_by varchar(64) NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT uq_kind_synonyms_word UNIQUE (district_code, word)
        )
        """
    )
    force_rls(op, "kind_synonyms")
    readers = role_in((*DISTRICT, *STREET))
    writers = role_in(DISTRICT)
    op.execute(f"CREATE POLICY kind_synonyms_read ON kind_synonyms FOR SELECT USING ({readers})")
    op.execute(
        f"CREATE POLICY kind_synonyms_write ON kind_synonyms USING ({writers}) "
        f"WITH CHECK ({writers})"
    )
    grant(op, "kind_synonyms", "SELECT, INSERT, DELETE")
    audit_table(op, "kind_synonyms")


def downgrade() -> None:
    unaudit_table(op, "kind_synonyms")
    unprotect(op, "kind_synonyms")
    op.execute("DROP TABLE kind_synonyms")
