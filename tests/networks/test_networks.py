"""Networks' CSV imports (members, label awards) and board seats, from the command line."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from flask.cli import ScriptInfo

from maillage.cli import main
from maillage.database import session
from maillage.networks.models import BoardSeat, LabelAward, NetworkMembership

LANDERNEAU, LANDERNEAU_SIREN = "29103", "212901037"


@pytest.fixture
def run(app):
    """Run a `maillage` command against the test app; return its result."""

    def invoke(*args: str):
        return CliRunner().invoke(main, list(args), obj=ScriptInfo(create_app=lambda: app))

    return invoke


@pytest.fixture
def network(run) -> str:
    result = run("networks", "create", "apvf", "--name", "Petites villes de France")
    assert result.exit_code == 0, result.output
    return "apvf"


def members() -> dict[str, int | None]:
    return dict(session.execute(sa.select(NetworkMembership.town_insee,
                                          NetworkMembership.since_year)).all())


def test_import_members_reports_unmatched_rows_and_is_idempotent(run, network, tmp_path) -> None:
    path = tmp_path / "members.csv"
    # A BOM, semicolons, French headers, a SIREN, an INSEE code that lost its leading zero.
    path.write_text("\ufeffCode INSEE;Année;Nom\n"
                    f"{LANDERNEAU_SIREN};2019;Landerneau\n"
                    "1053;;Bourg-en-Bresse\n"
                    "2A004;2020;Ajaccio\n"
                    "00000;2020;Nulle part\n"
                    "123456789;2020;Un SIREN inconnu\n"
                    "abc;2020;Pas un code\n"
                    "29103;1850;Année impossible\n"
                    "2A004;2021;Ajaccio encore\n", encoding="utf-8")
    result = run("import-members", network, str(path))
    assert result.exit_code == 0, result.output
    assert "3 memberships created, 0 updated, 0 unchanged, 5 rows skipped." in result.output
    for line, message in ((5, "no town has the INSEE code 00000"),
                          (6, "no town has the SIREN 123456789"),
                          (7, "Not an INSEE code (5 characters) or a SIREN (9 digits)."),
                          (8, "year: Must be greater than or equal to 1900"),
                          (9, "town: already given on line 4.")):
        [reported] = [text for text in result.output.splitlines()
                      if text.strip().startswith(f"line {line}: ")]
        assert message in reported
    assert members() == {"29103": 2019, "01053": None, "2A004": 2020}

    again = run("import-members", network, str(path))
    assert "0 memberships created, 0 updated, 3 unchanged, 5 rows skipped." in again.output
    assert members() == {"29103": 2019, "01053": None, "2A004": 2020}

    changed = tmp_path / "changed.csv"
    changed.write_text("town,year\n29103,2018\n01053,2017\n2A004,\n", encoding="utf-8")
    result = run("import-members", network, str(changed))
    assert "0 memberships created, 2 updated, 1 unchanged, 0 rows skipped." in result.output
    assert members() == {"29103": 2018, "01053": 2017, "2A004": 2020}


def test_import_members_refuses_a_file_without_a_town_column_and_an_unknown_network(
        run, network, tmp_path) -> None:
    path = tmp_path / "members.csv"
    path.write_text("nom,year\nLanderneau,2019\n", encoding="utf-8")
    result = run("import-members", network, str(path))
    assert result.exit_code != 0
    assert "file: No town column" in result.output
    unknown = run("import-members", "nope", str(path))
    assert unknown.exit_code != 0
    assert "No network has the slug nope (known: apvf)." in unknown.output
    assert members() == {}


def test_import_labels_replaces_a_level_and_changes_nothing_the_second_time(run,
                                                                            tmp_path) -> None:
    path = tmp_path / "labels.csv"
    path.write_text("siren\tyear\tlevel\n"
                    f"{LANDERNEAU_SIREN}\t2024\t3\n"
                    f"{LANDERNEAU_SIREN}\t2025\t4\n"
                    "2A004\t2025\t6\n"
                    "2A004\t\t2\n", encoding="utf-8")
    result = run("import-labels", str(path))
    assert "2 label awards created, 0 updated, 0 unchanged, 2 rows skipped." in result.output
    assert "line 4: level: Must be greater than or equal to 1 and less than or equal to 5." \
        in result.output
    assert "line 5: year: Missing data for required field." in result.output
    assert "Importing label awards" in result.output
    assert run("import-labels", str(path)).output.count("2 unchanged") == 1

    path.write_text("town,year,level\n29103,2025,5\n", encoding="utf-8")
    result = run("import-labels", str(path))
    assert "0 label awards created, 1 updated, 0 unchanged" in result.output
    awards = session.execute(sa.select(LabelAward.year, LabelAward.level)
                             .where(LabelAward.town_insee == "29103")).all()
    assert sorted(awards) == [(2024, 3), (2025, 5)]


def test_board_seats_from_the_command_line(run, network) -> None:
    added = run("board", "add", network, LANDERNEAU_SIREN, "--role", "trésorière",
                "--name", "Anne Le Gall")
    assert added.exit_code == 0, added.output
    assert "trésorière, Landerneau" in added.output
    listed = run("board", "list", network)
    assert "Landerneau  (Anne Le Gall)" in listed.output
    refused = run("board", "add", network, "00000", "--role", "président")
    assert refused.exit_code != 0
    assert "town: No town has the INSEE code or SIREN 00000." in refused.output
    [seat] = session.scalars(sa.select(BoardSeat)).all()
    assert run("board", "remove", str(seat.id)).exit_code == 0
    assert session.scalars(sa.select(BoardSeat)).all() == []
    assert "No board seat has the id" in run("board", "remove", str(seat.id)).output


def test_the_csv_module_reads_quoted_fields(run, network, tmp_path: Path) -> None:
    path = tmp_path / "quoted.csv"
    path.write_text('"town","year","note"\n"29103","2019","Landerneau, Finistère"\n',
                    encoding="utf-8")
    result = run("import-members", network, str(path))
    assert "1 memberships created" in result.output
    assert members() == {"29103": 2019}
