"""Help requests, their answers, offers of help; follows of help requests; their search

Revision ID: 0005_help
Revises: 0004
Create Date: 2026-11-26 03:20:53

Follows gain `help_request_id`, and their CHECK `one_target` counts it (the constraint is
dropped and made again, which on SQLite rebuilds the table).

Search of help requests, as 0003 does for initiatives (none of it in the models; see
maillage.migrate.include_name): on PostgreSQL a table `help_requests_search` of the weighted
tsvector of title (A) and body (C), GIN-indexed, kept by a trigger; on SQLite an
external-content FTS5 table `help_requests_fts`, kept by triggers.
"""

import sqlalchemy as sa
from alembic import op

import maillage.database

revision = '0005_help'
down_revision = '0004'
branch_labels = None
depends_on = None

ONE_TARGET_OF_0002 = (
    "(CASE WHEN theme_id IS NULL THEN 0 ELSE 1 END)"
    " + (CASE WHEN town_insee IS NULL THEN 0 ELSE 1 END)"
    " + (CASE WHEN initiative_id IS NULL THEN 0 ELSE 1 END)")
ONE_TARGET = ONE_TARGET_OF_0002 + " + (CASE WHEN help_request_id IS NULL THEN 0 ELSE 1 END)"

PG_DOCUMENT = ("setweight(to_tsvector('french_unaccent'::regconfig, coalesce(NEW.title, '')), 'A')"
               " || setweight(to_tsvector('french_unaccent'::regconfig, coalesce(NEW.body, '')),"
               " 'C')")
SQLITE_INSERT = ("INSERT INTO help_requests_fts(rowid, title, body)"
                 " VALUES (new.id, new.title, new.body);")
SQLITE_DELETE = ("INSERT INTO help_requests_fts(help_requests_fts, rowid, title, body)"
                 " VALUES ('delete', old.id, old.title, old.body);")


def _status_column() -> sa.Column:
    return sa.Column('status', sa.Enum('open', 'answered', 'resolved', 'closed', name='status',
                                       native_enum=False, create_constraint=True, length=16),
                     nullable=False)


def upgrade() -> None:
    op.create_table(
        'help_offers',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('town_insee', sa.String(length=5), nullable=True),
        sa.Column('author_id', sa.Integer(), nullable=True),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('body_html', sa.Text(), nullable=False),
        sa.Column('created_at', maillage.database.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['author_id'], ['users.id'],
                                name=op.f('fk_help_offers_author_id_users'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['town_insee'], ['towns.insee'],
                                name=op.f('fk_help_offers_town_insee_towns')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_help_offers')),
    )
    op.create_index(op.f('ix_help_offers_town_insee'), 'help_offers', ['town_insee'])
    op.create_table(
        'help_requests',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('town_insee', sa.String(length=5), nullable=False),
        sa.Column('author_id', sa.Integer(), nullable=True),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('body_html', sa.Text(), nullable=False),
        _status_column(),
        sa.Column('deadline', sa.Date(), nullable=True),
        sa.Column('circle', sa.Enum('department', 'region', 'network', name='circle',
                                    native_enum=False, create_constraint=True, length=16),
                  nullable=False),
        sa.Column('created_at', maillage.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column('escalated_at', maillage.database.UTCDateTime(timezone=True), nullable=True),
        sa.Column('resolved_at', maillage.database.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['author_id'], ['users.id'],
                                name=op.f('fk_help_requests_author_id_users'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['town_insee'], ['towns.insee'],
                                name=op.f('fk_help_requests_town_insee_towns')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_help_requests')),
    )
    op.create_index(op.f('ix_help_requests_author_id'), 'help_requests', ['author_id'])
    op.create_index('ix_help_requests_status_created_at', 'help_requests',
                    ['status', 'created_at'])
    op.create_index(op.f('ix_help_requests_town_insee'), 'help_requests', ['town_insee'])
    op.create_table(
        'help_answers',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('help_request_id', sa.Integer(), nullable=False),
        sa.Column('author_id', sa.Integer(), nullable=True),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('body_html', sa.Text(), nullable=False),
        sa.Column('by_referent', sa.Boolean(), nullable=False),
        sa.Column('created_at', maillage.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column('accepted_at', maillage.database.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['author_id'], ['users.id'],
                                name=op.f('fk_help_answers_author_id_users'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['help_request_id'], ['help_requests.id'],
                                name=op.f('fk_help_answers_help_request_id_help_requests'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_help_answers')),
    )
    op.create_index(op.f('ix_help_answers_help_request_id'), 'help_answers',
                    ['help_request_id'])
    for owner, table in (('help_offer', 'help_offers'), ('help_request', 'help_requests')):
        op.create_table(
            f'{owner}_themes',
            sa.Column(f'{owner}_id', sa.Integer(), nullable=False),
            sa.Column('theme_id', sa.Integer(), nullable=False),
            sa.ForeignKeyConstraint([f'{owner}_id'], [f'{table}.id'],
                                    name=op.f(f'fk_{owner}_themes_{owner}_id_{table}'),
                                    ondelete='CASCADE'),
            sa.ForeignKeyConstraint(['theme_id'], ['themes.id'],
                                    name=op.f(f'fk_{owner}_themes_theme_id_themes'),
                                    ondelete='CASCADE'),
            sa.PrimaryKeyConstraint(f'{owner}_id', 'theme_id', name=op.f(f'pk_{owner}_themes')),
        )
        op.create_index(op.f(f'ix_{owner}_themes_theme_id'), f'{owner}_themes', ['theme_id'])

    with op.batch_alter_table('follows') as batch_op:
        batch_op.add_column(sa.Column('help_request_id', sa.Integer(), nullable=True))
        batch_op.create_index('ix_follows_help_request_id_user_id',
                              ['help_request_id', 'user_id'])
        batch_op.create_unique_constraint(op.f('uq_follows_user_id_help_request_id'),
                                          ['user_id', 'help_request_id'])
        batch_op.create_foreign_key(op.f('fk_follows_help_request_id_help_requests'),
                                    'help_requests', ['help_request_id'], ['id'],
                                    ondelete='CASCADE')
        batch_op.drop_constraint(op.f('ck_follows_one_target'), type_='check')
        batch_op.create_check_constraint(op.f('ck_follows_one_target'),
                                         sa.text(f"{ONE_TARGET} = 1"))
    _create_search()


def _create_search() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("CREATE TABLE help_requests_search ("
                   " help_request_id integer NOT NULL,"
                   " document tsvector NOT NULL,"
                   " CONSTRAINT pk_help_requests_search PRIMARY KEY (help_request_id),"
                   " CONSTRAINT fk_help_requests_search_help_request_id_help_requests"
                   " FOREIGN KEY (help_request_id) REFERENCES help_requests (id)"
                   " ON DELETE CASCADE)")
        op.execute("CREATE INDEX ix_help_requests_search_document ON help_requests_search"
                   " USING gin (document)")
        op.execute(f"""CREATE FUNCTION help_requests_search_refresh() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                INSERT INTO help_requests_search (help_request_id, document)
                VALUES (NEW.id, {PG_DOCUMENT})
                ON CONFLICT (help_request_id) DO UPDATE SET document = EXCLUDED.document;
                RETURN NULL;
            END
            $$""")
        op.execute("CREATE TRIGGER help_requests_search_refresh"
                   " AFTER INSERT OR UPDATE OF title, body ON help_requests"
                   " FOR EACH ROW EXECUTE FUNCTION help_requests_search_refresh()")
    elif dialect == "sqlite":
        op.execute("CREATE VIRTUAL TABLE help_requests_fts USING fts5("
                   "title, body, content='help_requests', content_rowid='id',"
                   " tokenize=\"unicode61 remove_diacritics 2\")")
        op.execute(f"CREATE TRIGGER help_requests_fts_insert AFTER INSERT ON help_requests"
                   f" BEGIN {SQLITE_INSERT} END")
        op.execute(f"CREATE TRIGGER help_requests_fts_delete AFTER DELETE ON help_requests"
                   f" BEGIN {SQLITE_DELETE} END")
        op.execute(f"CREATE TRIGGER help_requests_fts_update"
                   f" AFTER UPDATE OF id, title, body ON help_requests"
                   f" BEGIN {SQLITE_DELETE} {SQLITE_INSERT} END")
    else:
        raise NotImplementedError(f"full-text search is written for PostgreSQL and SQLite,"
                                  f" not {dialect}")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS help_requests_search_refresh ON help_requests")
        op.execute("DROP FUNCTION IF EXISTS help_requests_search_refresh()")
        op.execute("DROP TABLE IF EXISTS help_requests_search")
    elif dialect == "sqlite":
        for trigger in ("help_requests_fts_update", "help_requests_fts_delete",
                        "help_requests_fts_insert"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS help_requests_fts")
    # Follows of help requests cannot outlive the column that says what they follow.
    op.execute("DELETE FROM follows WHERE help_request_id IS NOT NULL")
    with op.batch_alter_table('follows') as batch_op:
        batch_op.drop_constraint(op.f('ck_follows_one_target'), type_='check')
        batch_op.create_check_constraint(op.f('ck_follows_one_target'),
                                         sa.text(f"{ONE_TARGET_OF_0002} = 1"))
        batch_op.drop_constraint(op.f('fk_follows_help_request_id_help_requests'),
                                 type_='foreignkey')
        batch_op.drop_constraint(op.f('uq_follows_user_id_help_request_id'), type_='unique')
        batch_op.drop_index('ix_follows_help_request_id_user_id')
        batch_op.drop_column('help_request_id')
    for table in ('help_request_themes', 'help_offer_themes', 'help_answers', 'help_requests',
                  'help_offers'):
        op.drop_table(table)
