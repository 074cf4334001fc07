"""The import of the official communes data: counts, re-import, broken rows."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from maillage import migrate
from maillage.app import create_app
from maillage.cli import main
from maillage.database import session, transaction
from maillage.towns.models import PostalCode, Town
from maillage.towns.operations import COMMUNES, import_communes


@pytest.fixture
def empty_app(databases, tmp_path):
    """An app on a new migrated database with no town at all."""
    url = databases.create()
    migrate.upgrade(url)
    app = create_app({"DATABASE_URL": url, "INSTANCE_PATH": tmp_path, "SECRET_KEY": "x",
                      "TESTING": True})
    with app.app_context():
        yield app
    session.remove()
    app.extensions["maillage.engine"].dispose()


def communes_lines() -> list[str]:
    with gzip.open(COMMUNES, "rt", encoding="utf-8") as lines:
        return lines.read().splitlines()


def count(model) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(model))


def test_the_real_file_imports_every_commune(empty_app) -> None:
    with transaction():
        report = import_communes()
    assert (report.created, report.updated, len(report.errors)) == (34_969, 0, 0)
    assert count(Town) == 34_969
    small = session.execute(
        sa.select(sa.func.count(), sa.func.sum(Town.population))
        .where(Town.zone != "com", Town.population.between(2_500, 25_000))
    ).one()
    assert tuple(small) == (4_083, 26_308_887)
    ajaccio = session.get(Town, "2A004")
    assert (ajaccio.name, ajaccio.department.code, ajaccio.siren) == ("Ajaccio", "2A", "212000046")
    assert [p.code for p in session.get(Town, "75056").postal_codes][:2] == ["75001", "75002"]
    assert session.get(Town, "98901").siren is None


def test_a_second_import_changes_nothing(empty_app) -> None:
    with transaction():
        import_communes()
    before = count(PostalCode)
    with transaction():
        report = import_communes()
    assert (report.created, report.updated, report.unchanged) == (0, 0, 34_969)
    assert count(Town) == 34_969
    assert count(PostalCode) == before


def test_an_import_updates_what_changed(empty_app, tmp_path: Path) -> None:
    lines = communes_lines()[:200]
    path = tmp_path / "communes.json"
    path.write_text("\n".join([*lines, "]"]), encoding="utf-8")
    with transaction():
        import_communes(path)
    changed = json.loads(lines[3].rstrip(","))
    changed["population"] += 7
    changed["codesPostaux"] = ["01999"]
    lines[3] = json.dumps(changed) + ","
    path.write_text("\n".join([*lines, "]"]), encoding="utf-8")
    with transaction():
        report = import_communes(path)
    assert (report.created, report.updated, report.unchanged) == (0, 1, 198)
    town = session.get(Town, changed["code"])
    assert town.population == changed["population"]
    assert [p.code for p in town.postal_codes] == ["01999"]


def test_broken_rows_are_reported_with_their_line_and_skipped(empty_app,
                                                              tmp_path: Path) -> None:
    lines = communes_lines()[:12]
    lines[2] = '{"code":"01002","nom":"Broken",'
    lines[4] = lines[4].replace('"population":', '"population":-')
    lines[6] = lines[6].replace('"departement":"01"', '"departement":"00"')
    lines[8] = lines[8].replace('"code":"01', '"code":"X1')
    lines[10] = json.dumps({**json.loads(lines[10].rstrip(",")),
                            "siren": json.loads(lines[9].rstrip(","))["siren"]}) + ","
    path = tmp_path / "broken.json"
    path.write_text("\n".join([*lines, "]"]), encoding="utf-8")
    with transaction():
        report = import_communes(path)
    assert [error.line for error in report.errors] == [3, 5, 7, 9, 11]
    assert "population" in report.errors[1].message
    assert "unknown department 00" in report.errors[2].message
    assert "code" in report.errors[3].message
    assert "siren" in report.errors[4].message
    assert report.created == 6
    assert count(Town) == 6


def test_the_command_shows_progress_and_a_report(empty_app, tmp_path: Path) -> None:
    lines = communes_lines()[:30]
    lines[5] = "{not json},"
    path = tmp_path / "communes.json"
    path.write_text("\n".join([*lines, "]"]), encoding="utf-8")
    result = CliRunner().invoke(main, ["import-communes", str(path)],
                                obj=_script_info(empty_app))
    assert result.exit_code == 0, result.output
    assert "Importing communes" in result.output
    assert "28 towns created, 0 updated, 0 unchanged, 1 rows skipped." in result.output
    assert "line 6: not a JSON object" in result.output


def _script_info(app):
    from flask.cli import ScriptInfo

    return ScriptInfo(create_app=lambda: app)
