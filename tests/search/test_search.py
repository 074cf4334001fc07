"""French full-text search over initiatives, the same on SQLite (FTS5) and PostgreSQL."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic import command
from flask import Flask

from maillage import migrate
from maillage.database import session, transaction
from maillage.initiatives.models import Initiative, Status
from maillage.search.parser import fts5_query
from maillage.search.queries import excerpts, matching_initiatives
from maillage.towns.models import Town

pytestmark = pytest.mark.usefixtures("app")


def publish(title: str, summary: str = "Une initiative de la commune.",
            body: str = "Rien de plus à dire.") -> int:
    with transaction() as db:
        initiative = Initiative(town_insee="29103", title=title, summary=summary, body=body,
                                body_html="", status=Status.IDEA)
        db.add(initiative)
        db.flush()
        return initiative.id


def found(q: str) -> list[int]:
    """The ids matching `q`, best first: band after band."""
    return [initiative_id for initiative_id, _rank in ranked(q)]


def ranked(q: str) -> list[tuple[int, float]]:
    """The ids matching `q` and their ranks, best first: band after band."""
    result: list[tuple[int, float]] = []
    for band in matching_initiatives(q):
        matches = band.subquery()
        rows = session.execute(sa.select(matches.c.initiative_id, matches.c.rank).order_by(
            matches.c.rank.desc(), matches.c.initiative_id.desc()))
        result += [(initiative_id, rank) for initiative_id, rank in rows]
    return result


def dialect() -> str:
    return session.get_bind().dialect.name


def test_accents_and_case_are_folded() -> None:
    sobriety = publish("Sobriété numérique à la mairie")
    security = publish("Former les agents", body="Un plan de cybersécurité pour la commune.")
    assert found("sobriete") == [sobriety]
    assert found("SOBRIÉTÉ") == [sobriety]
    assert found("CYBERSECURITE") == [security]
    assert found("cybersécurité") == [security]


def test_french_words_are_stemmed() -> None:
    paperless = publish("La dématérialisation des actes d'état civil")
    schools = publish("Tablettes pour les écoles", body="Les journaux de la classe en ligne.")
    assert found("dématérialiser") == [paperless]
    assert found("dematerialise") == [paperless]
    assert found("école") == [schools]
    assert found("journal") == [schools]


def test_a_title_match_ranks_before_a_body_match() -> None:
    in_body = publish("Des ateliers pour les seniors",
                      body="Chaque mardi, une médiatrice du numérique accueille le public.")
    in_title = publish("Une médiatrice numérique itinérante")
    assert found("médiatrice") == [in_title, in_body]


def test_every_word_is_required_and_or_and_minus_work_as_on_the_web() -> None:
    wifi = publish("Wifi public sur la place", body="Un réseau gratuit dans le bourg.")
    fiber = publish("La fibre dans le bourg", body="Raccordement des écoles au réseau.")
    assert found("réseau bourg") in ([wifi, fiber], [fiber, wifi])
    assert found("wifi fibre") == []
    assert sorted(found("wifi or fibre")) == sorted([wifi, fiber])
    assert found("réseau -wifi") == [fiber]
    assert found('"réseau gratuit"') == [wifi]
    assert found('"gratuit réseau"') == []


@pytest.mark.parametrize("q", ["***", "la le et en", "-numérique", "  ", "'", "-*"])
def test_a_query_with_no_searchable_word_matches_nothing(q: str) -> None:
    initiative = publish("Le numérique pour tous", body="La le et en ***")
    assert found(q) == []
    assert "<mark>" not in "".join(excerpts(q, [initiative]).values())


@pytest.mark.parametrize("q", ['"', "NEAR(", "a AND", "-", "*", "l'école", "((", 'école" OR',
                               "title:école", "^école", "NOT école", "école)", '"""', "a + b",
                               "école*", "-(", "OR", "or or", "x" * 300, "é" * 3, "💻 site"])
def test_hostile_queries_never_raise(q: str) -> None:
    school = publish("L'école numérique", body="Des tablettes à l'école.")
    assert found(q) in ([], [school])
    result = excerpts(q, [school])
    assert set(result) <= {school}
    if q == "l'école":
        assert found(q) == [school]
        assert "<mark>" in result[school]


def test_excerpts_mark_the_matches_and_escape_the_text() -> None:
    hostile = publish(
        "Sobriété",
        summary="Réduire <b>la</b> consommation & les déchets.",
        body="Une démarche de sobriété numérique.\n\n<script>alert(1)</script> "
             "<img src=x onerror=alert(2)> et encore la sobriété \x03 </mark><mark>.",
    )
    excerpt = excerpts("sobriété", [hostile])[hostile]
    assert "<mark>sobriété</mark>" in excerpt
    assert "<script" not in excerpt
    assert "<img" not in excerpt
    assert "<b>" not in excerpt
    without_marks = excerpt.replace("<mark>", "").replace("</mark>", "")
    assert "<" not in without_marks
    assert ">" not in without_marks
    assert excerpt.count("<mark>") == excerpt.count("</mark>")


def test_excerpts_come_from_summary_and_body_for_one_page() -> None:
    in_summary = publish("Un projet", summary="Une plateforme de dématérialisation.")
    in_body = publish("Autre projet", body="Le dossier parle de dématérialisation aussi.")
    in_title = publish("Dématérialisation", summary="Les démarches en ligne.")
    result = excerpts("dématérialiser", [in_summary, in_body, in_title])
    assert "<mark>dématérialisation</mark>" in result[in_summary]
    assert "<mark>dématérialisation</mark>" in result[in_body]
    assert "<mark>" not in result[in_title]
    assert "démarches" in result[in_title]
    assert excerpts("dématérialiser", []) == {}


def test_updates_and_deletes_are_followed() -> None:
    kept = publish("Un guichet unique", body="Les démarches de la mairie.")
    dropped = publish("Un second guichet", body="Les démarches du syndicat.")
    assert sorted(found("guichet")) == sorted([kept, dropped])

    with transaction() as db:
        initiative = db.get(Initiative, kept)
        initiative.title = "Un portail citoyen"
        initiative.hidden_at = None
    assert found("guichet") == [dropped]
    assert found("portail") == [kept]
    assert found("démarches") in ([kept, dropped], [dropped, kept])

    with transaction() as db:
        db.delete(db.get(Initiative, dropped))
    assert found("guichet") == []
    assert found("démarches") == [kept]
    assert_index_is_consistent()


def test_a_search_in_a_department_follows_the_towns() -> None:
    """PostgreSQL reads the department in the search rows (0011): a moved town is followed."""
    finistere = publish("Un portail citoyen")
    with transaction() as db:
        cotes_d_armor = Initiative(town_insee="22113", title="Un portail familles",
                                   summary="", body="", body_html="", status=Status.IDEA)
        db.add(cotes_d_armor)
    assert sorted(found("portail")) == [finistere, cotes_d_armor.id]
    assert in_department("portail", "29") == [finistere]
    assert in_department("portail", "22") == [cotes_d_armor.id]

    with transaction() as db:
        db.get(Initiative, finistere).town_insee = "22113"
    assert in_department("portail", "29") == []
    assert in_department("portail", "22") == [cotes_d_armor.id, finistere]

    # The towns are loaded once for every test: Lannion goes back to the Côtes-d'Armor after.
    try:
        with transaction() as db:
            db.get(Town, "22113").department_code = "29"
        assert in_department("portail", "22") == []
        assert in_department("portail", "29") == [cotes_d_armor.id, finistere]
    finally:
        with transaction() as db:
            db.get(Town, "22113").department_code = "22"
    assert in_department("portail", "22") == [cotes_d_armor.id, finistere]


def in_department(q: str, department: str) -> list[int]:
    """The ids matching `q` in `department`, newest first."""
    ids = [initiative_id for band in matching_initiatives(q, department)
           for initiative_id in session.scalars(sa.select(band.subquery().c.initiative_id))]
    return sorted(ids, reverse=True)


def test_a_delete_of_every_row_empties_the_index(app: Flask) -> None:
    publish("Un portail citoyen")
    publish("Un portail familles")
    # As the fixtures do between tests: one DELETE of every row.
    with app.extensions["maillage.engine"].begin() as connection:
        connection.execute(sa.delete(Initiative))
    assert found("portail") == []
    assert_index_is_consistent()
    again = publish("Un portail des associations")
    assert found("portail") == [again]


def test_the_search_is_a_subquery_to_join_filter_and_page_by_rank_and_id() -> None:
    ids = [publish(f"Atelier numérique n°{n}", body="atelier " * n) for n in range(1, 6)]
    in_body = publish("Autre chose", body="Un atelier.")
    publish("Rien à voir")
    seen: list[int] = []
    after = None
    while True:
        # A page of 2, from the bands in turn, as the list of initiatives reads them.
        rows: list[sa.Row] = []
        for band in matching_initiatives("atelier"):
            matches = band.subquery()
            page = (sa.select(Initiative, matches.c.rank)
                    .join(matches, matches.c.initiative_id == Initiative.id)
                    .where(Initiative.hidden_at.is_(None)))
            if after is not None:
                rank, last_id = after
                page = page.where(sa.or_(matches.c.rank < rank,
                                         sa.and_(matches.c.rank == rank, Initiative.id < last_id)))
            rows += session.execute(page.order_by(matches.c.rank.desc(), Initiative.id.desc())
                                    .limit(2 - len(rows))).all()
            if len(rows) == 2:
                break
        if not rows:
            break
        seen += [initiative.id for initiative, _rank in rows]
        after = (rows[-1][1], rows[-1][0].id)
    assert seen.pop() == in_body
    assert sorted(seen) == sorted(ids)
    assert len(seen) == len(ids)
    # The same rank for all (PostgreSQL ranks on title and summary; in SQLite, more occurrences
    # in the body rank better), and the newest first among equals.
    assert seen == list(reversed(ids))


def test_a_body_only_match_is_found_after_the_title_and_summary_matches() -> None:
    body_only = [publish(f"Projet {n}", body="Un guichet numérique pour les habitants.")
                 for n in range(3)]
    in_summary = publish("Autre projet", summary="Un guichet unique en mairie.")
    in_title = publish("Un guichet unique")
    in_title_and_body = publish("Le guichet", body="Le guichet ouvre le samedi.")
    result = found("guichet")
    assert sorted(result) == sorted([*body_only, in_summary, in_title, in_title_and_body])
    assert set(result[:2]) == {in_title, in_title_and_body}
    assert result[2] == in_summary
    # Among themselves, in either order on SQLite; by id, newest first, on PostgreSQL.
    assert sorted(result[3:]) == sorted(body_only)
    if dialect() == "postgresql":
        assert result[3:] == list(reversed(body_only))
        # In bands: the title, then title and summary, then the body alone.
        ranks = dict(ranked("guichet"))
        assert all(ranks[initiative] == 0 for initiative in body_only)
        assert ranks[in_title] == ranks[in_title_and_body] > ranks[in_summary] > 0


def test_the_search_page_keeps_its_order_and_cursor_across_pages() -> None:
    from maillage.initiatives.queries import list_initiatives
    from maillage.pagination import decode

    ids = [publish(f"Atelier {n}", body="atelier") for n in range(3)]
    ids += [publish(f"Projet {n}", body="Un atelier le samedi.") for n in range(3)]
    seen: list[int] = []
    after = None
    while True:
        page = list_initiatives(q="atelier", after=after, limit=2)
        seen += [initiative.id for initiative in page.items]
        assert set(page.excerpts) == {initiative.id for initiative in page.items}
        if page.next_cursor is None:
            break
        after = decode(page.next_cursor, (float, int))
    assert sorted(seen) == sorted(ids)
    assert set(seen[:3]) == set(ids[:3])


def test_a_common_word_over_many_rows_gives_title_matches_first_page_after_page() -> None:
    """The word is in every one of 60 initiatives, in few titles, the oldest and the newest."""
    from maillage.initiatives import queries
    from maillage.pagination import decode

    old_title = publish("Le numérique à l'école")
    bodies = [publish(f"Projet {n}", body="Un projet numérique.") for n in range(28)]
    summaries = [publish(f"Atelier {n}", summary="Un atelier numérique.") for n in range(2)]
    bodies += [publish(f"Chantier {n}", body="Le numérique, encore.") for n in range(28)]
    new_title = publish("Un conseiller numérique")
    seen: list[int] = []
    after = None
    while True:
        page = queries.list_initiatives(q="numérique", theme=None, after=after, limit=7)
        seen += [initiative.id for initiative in page.items]
        if page.next_cursor is None:
            break
        after = decode(page.next_cursor, (float, int))
    assert set(seen[:2]) == {old_title, new_title}
    assert set(seen[2:4]) == set(summaries)
    assert sorted(seen[4:]) == sorted(bodies)
    if dialect() == "postgresql":
        assert seen[:4] == [new_title, old_title, *reversed(summaries)]
        assert seen[4:] == sorted(bodies, reverse=True)
    # In a department, where none of them is, no window finds anything.
    assert queries.list_initiatives(q="numérique", department="75").items == []


def test_the_sqlite_query_is_only_quoted_words() -> None:
    assert fts5_query("dématérialiser") == '("dematerialis"*)'
    assert fts5_query('NEAR(a b) "x" -y AND *') is not None
    assert fts5_query("la le -numérique") is None
    assert fts5_query("eaux") == '(("eaux" OR "eau"))'


def test_the_search_is_served_by_an_index() -> None:
    """PostgreSQL: each band by the GIN index of its vector; SQLite: the FTS5 table."""
    publish("Sobriété numérique")
    plans = []
    for band in matching_initiatives("sobriété numérique"):
        # The query as the application sends it, with the user's words as a bound parameter.
        statement = band.compile(bind=session.get_bind())
        connection = session.connection()
        if dialect() == "postgresql":
            # A few rows would be read sequentially: forbid it, to see whether the index can
            # serve.
            connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
        plans.append("\n".join(str(row[-1]) for row in connection.exec_driver_sql(
            f"EXPLAIN {'' if dialect() == 'postgresql' else 'QUERY PLAN '}{statement}",
            statement.params if dialect() == "postgresql" else tuple(
                statement.params[name] for name in statement.positiontup))))
    session.rollback()
    expected = ([f"Index Scan on ix_initiatives_search_{vector}" for vector in
                 ("title_document", "rank_document", "document")]
                if dialect() == "postgresql" else ["VIRTUAL TABLE INDEX"])
    assert len(plans) == len(expected)
    for plan, index in zip(plans, expected, strict=True):
        assert index in plan, plan


@pytest.mark.postgres_only
def test_the_search_indexes_keep_no_pending_list() -> None:
    """PostgreSQL (0010): a new initiative goes into the GIN indexes at once (FTS5 has no
    pending list). With one, every search read the list whole until a vacuum merged it.
    """
    options = dict(session.execute(sa.text(
        "SELECT relname, reloptions FROM pg_class WHERE relname LIKE 'ix_initiatives_search_%'"
        " AND relam = (SELECT oid FROM pg_am WHERE amname = 'gin')")).all())
    assert options == {f"ix_initiatives_search_{vector}": ["fastupdate=off"]
                       for vector in ("title_document", "rank_document", "document")}


def assert_index_is_consistent() -> None:
    if dialect() == "sqlite":
        # FTS5 compares its index with the content table, and raises if they differ.
        session.execute(sa.text(
            "INSERT INTO initiatives_fts(initiatives_fts, rank) VALUES ('integrity-check', 1)"))
        session.rollback()


def test_the_downgrade_removes_what_0003_made(databases) -> None:
    url = databases.create()
    migrate.upgrade(url)
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        assert search_objects(engine)
        command.downgrade(migrate.alembic_config(url), "0002")
        assert search_objects(engine) == set()
        migrate.upgrade(url)
        assert search_objects(engine)
    finally:
        engine.dispose()


def search_objects(engine: sa.Engine) -> set[str]:
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            return set(connection.scalars(sa.text(
                "SELECT name FROM sqlite_master WHERE name LIKE 'initiatives_fts%'")))
        return set(connection.scalars(sa.text(
            "SELECT tablename FROM pg_tables WHERE tablename LIKE 'initiatives_search%'"
            " UNION ALL SELECT proname FROM pg_proc WHERE proname LIKE 'initiatives_search%'"
            " UNION ALL SELECT tgname FROM pg_trigger WHERE tgname LIKE 'initiatives_search%'"
            " UNION ALL SELECT cfgname FROM pg_ts_config WHERE cfgname = 'french_unaccent'"
            " UNION ALL SELECT extname FROM pg_extension WHERE extname = 'unaccent'")))


def test_the_downgrade_of_0004_removes_the_rank_document(databases) -> None:
    """On PostgreSQL 0004 adds the rank vector; on SQLite it is a no-op both ways."""
    url = databases.create()
    migrate.upgrade(url)
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    postgresql = engine.dialect.name == "postgresql"
    try:
        assert ("rank_document" in search_columns(engine)) is postgresql
        command.downgrade(migrate.alembic_config(url), "0003")
        assert "rank_document" not in search_columns(engine)
        migrate.upgrade(url)
        assert ("rank_document" in search_columns(engine)) is postgresql
    finally:
        engine.dispose()


def search_columns(engine: sa.Engine) -> set[str]:
    table = "initiatives_search" if engine.dialect.name == "postgresql" else "initiatives_fts"
    return {column["name"] for column in sa.inspect(engine).get_columns(table)}
