"""French full-text search over initiatives

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 12:00:00

PostgreSQL: the unaccent extension, a `french_unaccent` text search configuration (French
with accents folded before stemming), and a table `initiatives_search` holding the weighted
tsvector of each initiative's title (A), summary (B) and body (C), GIN-indexed, kept in step by
a trigger (and emptied by the foreign key's cascade). The tsvector is stored, not an index
expression: ranking reads the tsvector of every match, and recomputing it for each match cost
seconds per search at 100,000 initiatives (bench/search.py). It is a table of its own rather
than a column of `initiatives` so that it stays small and uncompressed in its pages: ranking a
match then costs a few microseconds.

SQLite: an external-content FTS5 table `initiatives_fts` over the same three columns, with
case and accents folded, kept in step with `initiatives` by triggers.

None of this is in the models; maillage.migrate.include_name keeps autogenerate from seeing
it. Beware: a batch migration that rebuilds `initiatives` on SQLite drops its triggers, which
must then be created again (and the FTS index rebuilt).
"""

from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def pg_document(row: str) -> str:
    """The weighted tsvector of the initiative `row` (a table name, or NEW in a trigger)."""
    return " || ".join(
        f"setweight(to_tsvector('french_unaccent'::regconfig, coalesce({row}.{column}, '')),"
        f" '{weight}')" for column, weight in (("title", "A"), ("summary", "B"), ("body", "C")))


SQLITE_INSERT = ("INSERT INTO initiatives_fts(rowid, title, summary, body)"
                 " VALUES (new.id, new.title, new.summary, new.body);")
SQLITE_DELETE = ("INSERT INTO initiatives_fts(initiatives_fts, rowid, title, summary, body)"
                 " VALUES ('delete', old.id, old.title, old.summary, old.body);")


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
        op.execute("CREATE TEXT SEARCH CONFIGURATION french_unaccent (COPY = french)")
        op.execute("ALTER TEXT SEARCH CONFIGURATION french_unaccent"
                   " ALTER MAPPING FOR hword, hword_part, word WITH unaccent, french_stem")
        op.execute("CREATE TABLE initiatives_search ("
                   " initiative_id integer NOT NULL,"
                   " document tsvector NOT NULL,"
                   " CONSTRAINT pk_initiatives_search PRIMARY KEY (initiative_id),"
                   " CONSTRAINT fk_initiatives_search_initiative_id_initiatives"
                   " FOREIGN KEY (initiative_id) REFERENCES initiatives (id) ON DELETE CASCADE)")
        op.execute("CREATE INDEX ix_initiatives_search_document ON initiatives_search"
                   " USING gin (document)")
        op.execute(f"""CREATE FUNCTION initiatives_search_refresh() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                INSERT INTO initiatives_search (initiative_id, document)
                VALUES (NEW.id, {pg_document("NEW")})
                ON CONFLICT (initiative_id) DO UPDATE SET document = EXCLUDED.document;
                RETURN NULL;
            END
            $$""")
        # Only a change of the searched text recomputes: hiding or a new status does not.
        op.execute("CREATE TRIGGER initiatives_search_refresh"
                   " AFTER INSERT OR UPDATE OF title, summary, body ON initiatives"
                   " FOR EACH ROW EXECUTE FUNCTION initiatives_search_refresh()")
        op.execute("INSERT INTO initiatives_search (initiative_id, document)"
                   f" SELECT id, {pg_document('initiatives')} FROM initiatives")
    elif dialect == "sqlite":
        op.execute("CREATE VIRTUAL TABLE initiatives_fts USING fts5("
                   "title, summary, body, content='initiatives', content_rowid='id',"
                   " tokenize=\"unicode61 remove_diacritics 2\")")
        op.execute(f"CREATE TRIGGER initiatives_fts_insert AFTER INSERT ON initiatives"
                   f" BEGIN {SQLITE_INSERT} END")
        op.execute(f"CREATE TRIGGER initiatives_fts_delete AFTER DELETE ON initiatives"
                   f" BEGIN {SQLITE_DELETE} END")
        # Only a change of the searched text reindexes: hiding or editing the status does not.
        op.execute(f"CREATE TRIGGER initiatives_fts_update"
                   f" AFTER UPDATE OF id, title, summary, body ON initiatives"
                   f" BEGIN {SQLITE_DELETE} {SQLITE_INSERT} END")
        op.execute("INSERT INTO initiatives_fts(initiatives_fts) VALUES ('rebuild')")
    else:
        raise NotImplementedError(f"full-text search is written for PostgreSQL and SQLite,"
                                  f" not {dialect}")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS initiatives_search_refresh ON initiatives")
        op.execute("DROP FUNCTION IF EXISTS initiatives_search_refresh()")
        op.execute("DROP TABLE IF EXISTS initiatives_search")
        op.execute("DROP TEXT SEARCH CONFIGURATION IF EXISTS french_unaccent")
        # Without CASCADE: if something else came to use unaccent, this fails rather than
        # dropping it.
        op.execute("DROP EXTENSION IF EXISTS unaccent")
    elif dialect == "sqlite":
        for trigger in ("initiatives_fts_update", "initiatives_fts_delete",
                        "initiatives_fts_insert"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS initiatives_fts")
