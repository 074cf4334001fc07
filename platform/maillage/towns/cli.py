"""Commands of towns: the import of the official communes data."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from flask.cli import with_appcontext

from maillage.database import transaction
from maillage.towns import operations


def _count_lines(path: Path) -> int:
    with operations.open_text(path) as lines:
        return sum(1 for _ in lines)


@contextmanager
def progress_bar(path: Path, label: str) -> Iterator[Callable[[int], None]]:
    """Show a bar over the lines of `path`; yield the function imports report a line to."""
    with click.progressbar(length=_count_lines(path), label=label) as bar:
        done = 0

        def advance(line: int) -> None:
            nonlocal done
            bar.update(line - done)
            done = line

        yield advance


def echo_report(report: operations.ImportReport, what: str) -> None:
    """Print what an import did, then each skipped row with its line."""
    click.echo(f"{report.created} {what} created, {report.updated} updated, "
               f"{report.unchanged} unchanged, {len(report.errors)} rows skipped.")
    for error in report.errors:
        click.echo(f"  line {error.line}: {error.message}", err=True)


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
