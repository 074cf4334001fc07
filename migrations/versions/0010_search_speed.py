"""Search speed: visible initiatives indexed with what filters read; no GIN pending lists

Revision ID: 0010_search_speed
Revises: 0009_mail
Create Date: 2026-11-28 06:45:00

Measured with bench/search.py (100,000 initiatives; EXPLAIN ANALYZE, BUFFERS):

- `ix_initiatives_visible`: the ids of visible initiatives, with their town and status
  (INCLUDE, on PostgreSQL). A search band walked newest first, or checked id by id, finds there
  what its filters need, not in the 1.6 kB rows of `initiatives`: a common word in one
  department walked 16,000 rows of the table, 18 ms of 34.
- `ix_initiatives_visible_by_town`: the same by town, then id. A department (a few hundred
  towns) gives its visible initiatives from the index alone, where the planner otherwise
  hashed all 100,000 ids (15 ms; 1 ms from this index). Listing one town, newest first, reads
  it in order.
- `ix_initiative_themes_theme_id_initiative_id` replaces the index on `theme_id` alone: a
  theme's initiatives come newest first from the index alone.

PostgreSQL: the GIN indexes of `initiatives_search` stop using a pending list
(`fastupdate = off`). With it, new entries wait in an unsorted list, up to 4 MB
(gin_pending_list_limit) until a vacuum merges them, and every search reads the whole list:
after the benchmark's 100,000 inserts, 344 pages, 3 ms of each title search. Initiatives are
written rarely and read often: the insert pays instead.
"""

import sqlalchemy as sa
from alembic import op

revision = '0010_search_speed'
down_revision = '0009_mail'
branch_labels = None
depends_on = None

SEARCH_INDEXES = ("ix_initiatives_search_title_document", "ix_initiatives_search_rank_document",
                  "ix_initiatives_search_document")
VISIBLE = sa.text("hidden_at IS NULL")


def upgrade() -> None:
    op.create_index("ix_initiatives_visible", "initiatives", ["id"],
                    postgresql_include=["town_insee", "status"],
                    postgresql_where=VISIBLE, sqlite_where=VISIBLE)
    op.create_index("ix_initiatives_visible_by_town", "initiatives", ["town_insee", "id"],
                    postgresql_include=["status"], postgresql_where=VISIBLE,
                    sqlite_where=VISIBLE)
    op.create_index("ix_initiative_themes_theme_id_initiative_id", "initiative_themes",
                    ["theme_id", "initiative_id"])
    op.drop_index("ix_initiative_themes_theme_id", table_name="initiative_themes")
    if op.get_bind().dialect.name != "postgresql":
        return
    for index in SEARCH_INDEXES:
        op.execute(f"ALTER INDEX {index} SET (fastupdate = off)")
        # What is already pending stays there until merged: merge it now.
        op.execute(f"SELECT gin_clean_pending_list('{index}'::regclass)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for index in SEARCH_INDEXES:
            op.execute(f"ALTER INDEX {index} RESET (fastupdate)")
    op.create_index("ix_initiative_themes_theme_id", "initiative_themes", ["theme_id"])
    op.drop_index("ix_initiative_themes_theme_id_initiative_id", table_name="initiative_themes")
    op.drop_index("ix_initiatives_visible_by_town", table_name="initiatives")
    op.drop_index("ix_initiatives_visible", table_name="initiatives")
