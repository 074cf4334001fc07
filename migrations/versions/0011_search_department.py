"""Search by department: the department of each initiative's town in `initiatives_search`

Revision ID: 0011_search_department
Revises: 0010_search_speed
Create Date: 2026-11-28 07:30:00

PostgreSQL only. A search in one department (bench/search.py, 100,000 initiatives) looked each
candidate up twice more, in `ix_initiatives_visible` then in `towns`, to learn its department:
"site internet commune" in the Calvados checked 1,250 title matches and 3,010 title-and-summary
matches that way (12,932 buffers, 10 ms for one band); "numérique" in the Finistère walked 7,017
initiatives newest first, probing their towns (10,645 buffers, 7 ms). With the department in
the search row, and `ix_initiatives_search_department_code` on `(department_code,
initiative_id)`, a band is read from one table: the department's rows newest first, stopping
after one page, or the band's GIN index and the department's index together (BitmapAnd).

A trigger on `initiatives_search` reads the department of the initiative's town whenever a
row is written: by 0007's trigger function on insert, on a change of text, and now on a change
of town (which the API does not offer, but nothing in the table forbids); a trigger on `towns`
follows a town that changes department (the import of the official communes could do it; in
practice a commune does not change department). The population is not copied: each yearly
import changes it for most towns, and a range of populations is a third of the towns, no
filter worth an index. Nor the region, which is measured by no scenario.

SQLite: nothing changes (the FTS5 search joins the towns).
"""

from alembic import op

revision = '0011_search_department'
down_revision = '0010_search_speed'
branch_labels = None
depends_on = None


def trigger(columns: str) -> str:
    return ("CREATE TRIGGER initiatives_search_refresh"
            f" AFTER INSERT OR UPDATE OF {columns} ON initiatives"
            " FOR EACH ROW EXECUTE FUNCTION initiatives_search_refresh()")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("ALTER TABLE initiatives_search ADD COLUMN department_code varchar(3)")
    op.execute("UPDATE initiatives_search AS s SET department_code = t.department_code"
               " FROM initiatives AS i JOIN towns AS t ON t.insee = i.town_insee"
               " WHERE i.id = s.initiative_id")
    op.execute("ALTER TABLE initiatives_search ALTER COLUMN department_code SET NOT NULL")
    op.execute("CREATE INDEX ix_initiatives_search_department_code ON initiatives_search"
               " (department_code, initiative_id)")
    # Whatever writes a search row (0007's function, the trigger on towns), its department is
    # read here, from the initiative's town.
    op.execute("""CREATE FUNCTION initiatives_search_department() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            NEW.department_code := (SELECT t.department_code FROM initiatives AS i
                                    JOIN towns AS t ON t.insee = i.town_insee
                                    WHERE i.id = NEW.initiative_id);
            RETURN NEW;
        END
        $$""")
    op.execute("CREATE TRIGGER initiatives_search_department"
               " BEFORE INSERT OR UPDATE ON initiatives_search"
               " FOR EACH ROW EXECUTE FUNCTION initiatives_search_department()")
    # A change of town rewrites the row as a change of text does.
    op.execute("DROP TRIGGER initiatives_search_refresh ON initiatives")
    op.execute(trigger("title, summary, body, town_insee"))
    op.execute("""CREATE FUNCTION initiatives_search_move_town() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE initiatives_search AS s SET department_code = NEW.department_code
            FROM initiatives AS i WHERE i.town_insee = NEW.insee AND s.initiative_id = i.id;
            RETURN NULL;
        END
        $$""")
    op.execute("CREATE TRIGGER initiatives_search_move_town"
               " AFTER UPDATE OF department_code ON towns FOR EACH ROW"
               " WHEN (OLD.department_code IS DISTINCT FROM NEW.department_code)"
               " EXECUTE FUNCTION initiatives_search_move_town()")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER initiatives_search_move_town ON towns")
    op.execute("DROP FUNCTION initiatives_search_move_town()")
    op.execute("DROP TRIGGER initiatives_search_refresh ON initiatives")
    op.execute(trigger("title, summary, body"))
    op.execute("DROP TRIGGER initiatives_search_department ON initiatives_search")
    op.execute("DROP FUNCTION initiatives_search_department()")
    # Its index goes with it.
    op.execute("ALTER TABLE initiatives_search DROP COLUMN department_code")
