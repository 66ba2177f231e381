"""The header mapping a street confirmed on the import page, remembered for its next import.

Revision ID: 0052_import_header_mappings
Revises: 0051_kind_synonyms
Create Date: 2026-12-06

`scope` is the street's code (a street office's import) or `district` (the district office's);
each row maps one header the import did not recognise to a field. Readable and writable by the
roles that import (the district roles, a street officer for its own street: row-level
security); audited row by row.
"""

from collections.abc import Sequence

from alembic import op

from gis_app.core.db_security import (
    DISTRICT,
    audit_table,
    force_rls,
    grant,
    role_in,
    unaudit_table,
    unprotect,
)

revision: str = "0052_import_header_mappings"
down_revision: str | Sequence[str] | None = "0051_kind_synonyms"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE import_header_mappings (
            id serial PRIMARY KEY,
            scope varchar(12) NOT NULL,
            header varchar(200) NOT NULL,
            field varchar(64) NOT NULL,
            updated_by varchar(64) NOT NULL,
            updated_at timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT uq_import_header_mappings UNIQUE (scope, header)
        )
        """
    )
    force_rls(op, "import_header_mappings")
    district = role_in(DISTRICT)
    own = "(SELECT access.app_role()) = 'street_officer' AND scope = (SELECT access.app_street())"
    op.execute(
        "CREATE POLICY import_header_mappings_rw ON import_header_mappings "
        f"USING ({district} OR {own}) WITH CHECK ({district} OR {own})"
    )
    grant(op, "import_header_mappings", "SELECT, INSERT, UPDATE, DELETE")
    audit_table(op, "import_header_mappings")


def downgrade() -> None:
    unaudit_table(op, "import_header_mappings")
    unprotect(op, "import_header_mappings")
    op.execute("DROP TABLE import_header_mappings")
