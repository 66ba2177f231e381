"""The audit trail: every insert, update and delete of the app's tables, append-only, in an
`audit` schema the app's role cannot change, each event hash-chained to the one before.

How it holds together:
- `audit.record_row()` (an AFTER ROW trigger on every table, SECURITY DEFINER: it runs as the
  owner) writes the event with the actor (app.user), the app role, the table, the row's key,
  the site it belongs to, and the row before and after as jsonb. Secrets are masked.
- The chain is appended at commit: a deferred constraint trigger on audit.events locks the
  chain head (one row, FOR UPDATE), gives the transaction's events the next positions (seq) and
  hashes, and moves the head. Transactions therefore join the chain one after another, in
  commit order, with no fork, and hold the head only for the moment of their commit (not from
  their first write), so a long import does not stall everyone else's writes, and no row lock
  taken later in a transaction can deadlock against the head.
- hash = sha256(prev_hash, seq, time, actor, role, table, key, site, action, before, after)
  joined by U+001F, over the database's own canonical text of each value; `gis-app audit
  verify` recomputes every hash in Python and names the first changed or missing event.
- The app role may SELECT events (district roles only, by policy) and nothing else.

Revision ID: 0007_audit
Revises: 0006_accounts
Create Date: 2026-11-28
"""

from collections.abc import Sequence

from alembic import op

from gis_app.core.db_security import DISTRICT, app_role, audit_table, role_in, unaudit_table

revision: str = "0007_audit"
down_revision: str | Sequence[str] | None = "0006_accounts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: the audited tables and their keys (sessions and login attempts are not: they are
#: short-lived plumbing, and every login attempt is kept in login_attempts itself)
AUDITED: dict[str, tuple[str, tuple[str, ...]]] = {
    "districts": ("code", ()),
    "streets": ("id", ()),
    "import_batches": ("id", ()),
    "sites": ("id", ()),
    "site_events": ("id", ()),
    "site_steps": ("id", ()),
    "photos": ("id", ()),
    "acceptance_views": ("id", ()),
    "extension_requests": ("id", ()),
    "monthly_reports": ("id", ()),
    "renovation_works": ("site_id", ()),
    "daily_runs": ("id", ()),
    "users": ("id", ("password_hash",)),
    "api_tokens": ("id", ("token_hash",)),
}

HASH_SQL = r"""
encode(sha256(convert_to(concat_ws(E'\x1f',
    {prev}, {seq}::text,
    to_char({at} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
    {actor}, {app_role}, {table_name}, coalesce({row_id}, ''),
    coalesce({site_id}::text, ''), {action},
    coalesce({before}::text, ''), coalesce({after}::text, '')), 'UTF8')), 'hex')
"""


def upgrade() -> None:
    role = app_role()
    event_hash = HASH_SQL.format(
        prev="r.prev",
        seq="r.seq",
        at="r.at",
        actor="r.actor",
        app_role="r.app_role",
        table_name="r.table_name",
        row_id="r.row_id",
        site_id="r.site_id",
        action="r.action",
        before="r.before",
        after="r.after",
    )
    op.execute(
        f"""
        CREATE SCHEMA audit;
        COMMENT ON SCHEMA audit IS 'append-only, hash-chained audit trail (written by triggers)';

        CREATE TABLE audit.events (
            id bigserial PRIMARY KEY,
            seq bigint,
            xact bigint NOT NULL DEFAULT txid_current(),
            at timestamptz NOT NULL DEFAULT clock_timestamp(),
            actor text NOT NULL,
            app_role text NOT NULL,
            table_name text NOT NULL,
            row_id text,
            site_id bigint,
            action text NOT NULL,
            before jsonb,
            after jsonb,
            prev_hash char(64),
            hash char(64),
            CONSTRAINT uq_audit_events_seq UNIQUE (seq),
            CONSTRAINT ck_audit_events_action CHECK (
                action IN ('insert', 'update', 'delete', 'truncate'))
        );
        CREATE INDEX ix_audit_events_site ON audit.events (site_id, id) WHERE site_id IS NOT NULL;
        CREATE INDEX ix_audit_events_actor ON audit.events (actor, id);
        CREATE INDEX ix_audit_events_row ON audit.events (table_name, row_id, id);
        CREATE INDEX ix_audit_events_unchained ON audit.events (xact) WHERE seq IS NULL;

        CREATE TABLE audit.chain_head (
            one boolean PRIMARY KEY DEFAULT true CHECK (one),
            seq bigint NOT NULL,
            hash char(64) NOT NULL
        );
        INSERT INTO audit.chain_head VALUES (true, 0, repeat('0', 64));

        CREATE FUNCTION audit.record_row() RETURNS trigger
          LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
        DECLARE
          key text := TG_ARGV[0];
          old_row jsonb;
          new_row jsonb;
          masked text;
          i int;
          site bigint;
        BEGIN
          IF TG_OP <> 'INSERT' THEN old_row := to_jsonb(OLD); END IF;
          IF TG_OP <> 'DELETE' THEN new_row := to_jsonb(NEW); END IF;
          -- secrets: only whether they changed, never their value
          FOR i IN 1 .. TG_NARGS - 1 LOOP
            masked := TG_ARGV[i];
            IF old_row ? masked THEN
              old_row := jsonb_set(old_row, ARRAY[masked], to_jsonb('sha256:' ||
                left(encode(sha256(convert_to(old_row->>masked, 'UTF8')), 'hex'), 12)));
            END IF;
            IF new_row ? masked THEN
              new_row := jsonb_set(new_row, ARRAY[masked], to_jsonb('sha256:' ||
                left(encode(sha256(convert_to(new_row->>masked, 'UTF8')), 'hex'), 12)));
            END IF;
          END LOOP;
          IF TG_OP = 'UPDATE' AND old_row = new_row THEN
            RETURN NULL;
          END IF;
          IF TG_TABLE_NAME = 'sites' THEN
            site := (coalesce(new_row, old_row)->>'id')::bigint;
          ELSE
            site := (coalesce(new_row, old_row)->>'site_id')::bigint;
          END IF;
          INSERT INTO audit.events (actor, app_role, table_name, row_id, site_id, action,
                                    before, after)
          VALUES (
            coalesce(nullif(current_setting('app.user', true), ''), 'db:' || session_user),
            coalesce(current_setting('app.role', true), ''),
            TG_TABLE_NAME,
            coalesce(new_row, old_row)->>key,
            site,
            lower(TG_OP),
            old_row,
            new_row);
          RETURN NULL;
        END $$;

        CREATE FUNCTION audit.record_truncate() RETURNS trigger
          LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
        BEGIN
          INSERT INTO audit.events (actor, app_role, table_name, action)
          VALUES (
            coalesce(nullif(current_setting('app.user', true), ''), 'db:' || session_user),
            coalesce(current_setting('app.role', true), ''),
            TG_TABLE_NAME, 'truncate');
          RETURN NULL;
        END $$;

        -- at commit: give this transaction's events their place in the chain
        CREATE FUNCTION audit.chain() RETURNS trigger
          LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
        DECLARE
          head record;
          r record;
          h text;
        BEGIN
          IF NOT EXISTS (SELECT 1 FROM audit.events WHERE id = NEW.id AND seq IS NULL) THEN
            RETURN NULL;  -- chained already, by this transaction's first event
          END IF;
          SELECT seq, hash INTO head FROM audit.chain_head WHERE one FOR UPDATE;
          FOR r IN
            SELECT e.id, e.at, e.actor, e.app_role, e.table_name, e.row_id, e.site_id, e.action,
                   e.before, e.after, head.seq AS seq, head.hash AS prev
            FROM audit.events e
            WHERE e.xact = NEW.xact AND e.seq IS NULL
            ORDER BY e.id
          LOOP
            r.seq := head.seq + 1;
            r.prev := head.hash;
            h := {event_hash};
            UPDATE audit.events SET seq = r.seq, prev_hash = r.prev, hash = h WHERE id = r.id;
            head.seq := r.seq;
            head.hash := h;
          END LOOP;
          UPDATE audit.chain_head SET seq = head.seq, hash = head.hash WHERE one;
          RETURN NULL;
        END $$;

        CREATE CONSTRAINT TRIGGER chain AFTER INSERT ON audit.events
          DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION audit.chain();

        REVOKE ALL ON FUNCTION audit.record_row() FROM PUBLIC;
        REVOKE ALL ON FUNCTION audit.record_truncate() FROM PUBLIC;
        REVOKE ALL ON FUNCTION audit.chain() FROM PUBLIC;

        -- the office reads the trail; nobody but the owner's triggers writes it
        ALTER TABLE audit.events ENABLE ROW LEVEL SECURITY;
        CREATE POLICY events_office ON audit.events FOR SELECT USING ({role_in(DISTRICT)});
        GRANT USAGE ON SCHEMA audit TO {role};
        GRANT SELECT ON audit.events TO {role};
        """
    )
    for table, (key, masked) in AUDITED.items():
        audit_table(op, table, key, masked)


def downgrade() -> None:
    for table in AUDITED:
        unaudit_table(op, table)
    op.execute(f"REVOKE ALL ON SCHEMA audit FROM {app_role()}")
    op.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA audit FROM {app_role()}")
    op.execute("DROP SCHEMA audit CASCADE")
