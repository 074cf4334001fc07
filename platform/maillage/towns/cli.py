"""Commands of towns: the import of the official communes data."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from maillage.database import transaction
from maillage.towns import operations


def _count_lines(path: Path) -> int:
    with operations.open_text(path) as lines:
        return sum(1 for _ in lines)


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
    with click.progressbar(length=_count_lines(path), label="Importing communes") as bar, \
            transaction():
        done = 0

        def advance(line: int) -> None:
            nonlocal done
            bar.update(line - done)
            done = line

        report = operations.import_communes(path, progress=advance)
    click.echo(f"{report.created} towns created, {report.updated} updated, "
               f"{report.unchanged} unchanged, {len(report.errors)} rows skipped.")
    for error in report.errors:
        click.echo(f"  line {error.line}: {error.message}", err=True)
