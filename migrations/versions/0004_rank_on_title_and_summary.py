"""Rank searches on a small vector of title and summary

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 02:20:00

PostgreSQL only: `initiatives_search` gains `rank_document`, the weighted tsvector of title (A)
and summary (B) alone, kept by the same trigger as `document`. Matching still uses `document`
(title, summary and body) through its GIN index; ranking reads `rank_document`, about 300
bytes kept in the row, instead of the whole document (about 1.4 kB): ts_rank_cd over the whole
document cost about as much again as finding the matches when a word is in tens of thousands
of initiatives (bench/search.py). A match in the body alone then ranks 0: still found, after
the others.

SQLite: nothing changes (FTS5 ranks with bm25).
"""

from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def weighted(row: str, columns: tuple[tuple[str, str], ...]) -> str:
    return " || ".join(
        f"setweight(to_tsvector('french_unaccent'::regconfig, coalesce({row}.{column}, '')),"
        f" '{weight}')" for column, weight in columns)


FULL = (("title", "A"), ("summary", "B"), ("body", "C"))
SHORT = (("title", "A"), ("summary", "B"))


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("ALTER TABLE initiatives_search ADD COLUMN rank_document tsvector")
    # Kept in the row, uncompressed where it fits, so that ranking reads it with the row.
    op.execute("ALTER TABLE initiatives_search ALTER COLUMN rank_document SET STORAGE MAIN")
    op.execute("UPDATE initiatives_search AS s"
               f" SET rank_document = {weighted('i', SHORT)}"
               " FROM initiatives AS i WHERE i.id = s.initiative_id")
    op.execute("ALTER TABLE initiatives_search ALTER COLUMN rank_document SET NOT NULL")
    op.execute(f"""CREATE OR REPLACE FUNCTION initiatives_search_refresh() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO initiatives_search (initiative_id, document, rank_document)
            VALUES (NEW.id, {weighted("NEW", FULL)}, {weighted("NEW", SHORT)})
            ON CONFLICT (initiative_id) DO UPDATE
                SET document = EXCLUDED.document, rank_document = EXCLUDED.rank_document;
            RETURN NULL;
        END
        $$""")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    # The function of 0003 again, before the column it writes goes.
    op.execute(f"""CREATE OR REPLACE FUNCTION initiatives_search_refresh() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO initiatives_search (initiative_id, document)
            VALUES (NEW.id, {weighted("NEW", FULL)})
            ON CONFLICT (initiative_id) DO UPDATE SET document = EXCLUDED.document;
            RETURN NULL;
        END
        $$""")
    op.execute("ALTER TABLE initiatives_search DROP COLUMN rank_document")
