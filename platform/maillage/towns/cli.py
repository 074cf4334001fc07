"""Commands of towns: the import of the official communes data."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from maillage.console import echo_report, progress_bar
from maillage.database import transaction
from maillage.towns import operations


@click.command("import-communes")
@click.argument("path", required=False, type=click.Path(exists=True, dir_okay=False,
                                                          path_type=Path))
@with_appcontext
def import_communes(path: Path | None) -> None:
    """Import or update the towns from the official communes JSON (one object per line).

    PATH defaults to the copy Maillage carries (COG 2026, INSEE populations of 2023). Rows
    that do not validate are reported with their line number and skipped.
    """
    path = path or operations.COMMUNES
    with progress_bar(path, "Importing communes") as advance, transaction():
        report = operations.import_communes(path, progress=advance)
    echo_report(report, "towns")
