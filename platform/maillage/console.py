"""What every command says: a progress bar over a data file, the report of an import, and a
refusal as one line naming each field."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from maillage.datafiles import ImportReport, open_text
from maillage.errors import DomainError


def _count_lines(path: Path) -> int:
    with open_text(path) as lines:
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


def echo_report(report: ImportReport, what: str) -> None:
    """Print what an import did, then each skipped row with its line."""
    click.echo(f"{report.created} {what} created, {report.updated} updated, "
               f"{report.unchanged} unchanged, {len(report.errors)} rows skipped.")
    for error in report.errors:
        click.echo(f"  line {error.line}: {error.message}", err=True)


def explain(error: DomainError) -> str:
    """The refusal as one line: each field with its messages, or the error's message."""
    details = getattr(error, "errors", {})
    return "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in details.items()) \
        or error.message
