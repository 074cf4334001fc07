"""Search in bands of relevance: title, then title and summary, then the whole text

Revision ID: 0007_search
Revises: 0006_figures
Create Date: 2026-11-27 03:40:00

PostgreSQL only: `initiatives_search` gains `title_document`, the tsvector of the title (A),
kept by the same trigger as the others, and a GIN index on it and on `rank_document` (title and
summary). A search is then answered band by band, newest first within a band (title matches,
then matches of title and summary together, then matches needing the body): each band is an
index scan of its own small vector, or a walk down the primary key that stops after one page
when the words are common. Ranking every match with ts_rank_cd cost 100 to 400 ms for a word
found in 61,000 of 100,000 initiatives (bench/search.py).

SQLite: nothing changes (FTS5 ranks with bm25).
"""

from alembic import op

revision = '0007_search'
down_revision = '0006_figures'
branch_labels = None
depends_on = None


def part(row: str, column: str, weight: str) -> str:
    return (f"setweight(to_tsvector('french_unaccent'::regconfig, coalesce({row}.{column}, '')),"
            f" '{weight}')")


def refresh_function(columns: tuple[str, ...]) -> str:
    """The trigger function writing `columns` of `initiatives_search` for NEW.

    Each vector is the one before it and one more text, so title and summary are parsed once.
    """
    names = ", ".join(columns)
    updates = ", ".join(f"{name} = EXCLUDED.{name}" for name in columns)
    return f"""CREATE OR REPLACE FUNCTION initiatives_search_refresh() RETURNS trigger
        LANGUAGE plpgsql AS $$
        DECLARE
            title_document tsvector := {part("NEW", "title", "A")};
            rank_document tsvector := title_document || {part("NEW", "summary", "B")};
            document tsvector := rank_document || {part("NEW", "body", "C")};
        BEGIN
            INSERT INTO initiatives_search (initiative_id, {names})
            VALUES (NEW.id, {names})
            ON CONFLICT (initiative_id) DO UPDATE SET {updates};
            RETURN NULL;
        END
        $$"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("ALTER TABLE initiatives_search ADD COLUMN title_document tsvector")
    op.execute("ALTER TABLE initiatives_search ALTER COLUMN title_document SET STORAGE MAIN")
    op.execute("UPDATE initiatives_search AS s"
               f" SET title_document = {part('i', 'title', 'A')}"
               " FROM initiatives AS i WHERE i.id = s.initiative_id")
    op.execute("ALTER TABLE initiatives_search ALTER COLUMN title_document SET NOT NULL")
    op.execute(refresh_function(("document", "rank_document", "title_document")))
    op.execute("CREATE INDEX ix_initiatives_search_title_document ON initiatives_search"
               " USING gin (title_document)")
    op.execute("CREATE INDEX ix_initiatives_search_rank_document ON initiatives_search"
               " USING gin (rank_document)")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    # The function of 0004 again, before the column it no longer writes goes.
    op.execute(refresh_function(("document", "rank_document")))
    op.execute("DROP INDEX ix_initiatives_search_rank_document")
    # Its index goes with it.
    op.execute("ALTER TABLE initiatives_search DROP COLUMN title_document")
