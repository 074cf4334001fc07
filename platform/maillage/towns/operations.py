"""Writing towns: the import of the official communes data, regions and departments first."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import sqlalchemy as sa
from marshmallow import ValidationError

from maillage.database import session
from maillage.datafiles import BATCH, ImportReport, RowError, open_text
from maillage.text import fold
from maillage.towns.models import Department, PostalCode, Region, Town
from maillage.towns.schemas import CommuneRow

DATA_DIR = Path(__file__).parent / "data"
COMMUNES = DATA_DIR / "communes.json.gz"


def import_areas(data_dir: Path = DATA_DIR) -> None:
    """Create or update the regions and departments of the official geography."""
    for model, name, extra in ((Region, "regions.json", {}),
                               (Department, "departements.json", {"region_code": "region"})):
        for row in json.loads((data_dir / name).read_text(encoding="utf-8")):
            values = {"code": row["code"], "name": row["nom"]}
            values |= {column: row[key] for column, key in extra.items()}
            session.merge(model(**values))
    session.flush()


def _rows(lines: IO[str]) -> Iterator[tuple[int, dict[str, Any] | RowError]]:
    """Yield each commune of a JSON array written one object per line, with its line number."""
    schema = CommuneRow()
    for number, line in enumerate(lines, start=1):
        text = line.strip().removesuffix(",")
        if text in ("", "[", "]"):
            continue
        try:
            yield number, schema.load(json.loads(text))
        except json.JSONDecodeError as error:
            yield number, RowError(number, f"not a JSON object: {error.msg}")
        except ValidationError as error:
            messages = "; ".join(f"{name}: {' '.join(map(str, problems))}"
                                 for name, problems in sorted(error.normalized_messages().items()))
            yield number, RowError(number, messages)


def _values(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "insee": row["code"], "name": row["nom"], "search_name": fold(row["nom"]),
        "zone": row["zone"], "department_code": row["departement"], "region_code": row["region"],
        "population": row["population"], "siren": row["siren"],
    }


def import_communes(path: Path = COMMUNES,
                    progress: Callable[[int], None] | None = None) -> ImportReport:
    """Create or update the towns of a communes file; re-running it changes nothing.

    Rows that do not validate, or that name an unknown department or region or a SIREN already
    taken, are reported with their line and skipped; the others are imported.
    """
    import_areas()
    departments = set(session.scalars(sa.select(Department.code)))
    regions = set(session.scalars(sa.select(Region.code)))
    existing = _existing_towns()
    sirens = {values["siren"]: insee for insee, (values, _) in existing.items() if values["siren"]}
    report = ImportReport()
    seen: set[str] = set()
    creates: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    postal: dict[str, list[str]] = {}

    with open_text(path) as lines:
        for number, row in _rows(lines):
            if progress:
                progress(number)
            if isinstance(row, RowError):
                report.errors.append(row)
                continue
            problem = _conflict(row, departments, regions, seen, sirens)
            if problem:
                report.errors.append(RowError(number, problem))
                continue
            seen.add(row["code"])
            if row["siren"]:
                sirens[row["siren"]] = row["code"]
            values, codes = _values(row), sorted(set(row["codesPostaux"]))
            if row["code"] not in existing:
                creates.append(values)
                report.created += 1
            elif existing[row["code"]] != (values, codes):
                updates.append(values)
                report.updated += 1
            else:
                report.unchanged += 1
                continue
            postal[row["code"]] = codes

    _write(creates, updates, postal)
    return report


def _existing_towns() -> dict[str, tuple[dict[str, Any], list[str]]]:
    """Return each town's current values and postal codes, in the shape rows are compared in."""
    codes: dict[str, list[str]] = {}
    for insee, code in session.execute(
        sa.select(PostalCode.town_insee, PostalCode.code).order_by(PostalCode.code)
    ):
        codes.setdefault(insee, []).append(code)
    columns = [Town.insee, Town.name, Town.zone, Town.department_code, Town.region_code,
               Town.population, Town.siren]
    return {
        insee: (_values({"code": insee, "nom": name, "zone": zone, "departement": department,
                         "region": region, "population": population, "siren": siren}),
                codes.get(insee, []))
        for insee, name, zone, department, region, population, siren
        in session.execute(sa.select(*columns))
    }


def _conflict(row: dict[str, Any], departments: set[str], regions: set[str], seen: set[str],
              sirens: dict[str, str]) -> str | None:
    if row["code"] in seen:
        return f"code: {row['code']} appears twice in the file."
    if row["departement"] not in departments:
        return f"departement: unknown department {row['departement']}."
    if row["region"] not in regions:
        return f"region: unknown region {row['region']}."
    owner = sirens.get(row["siren"]) if row["siren"] else None
    if owner and owner != row["code"]:
        return f"siren: {row['siren']} already belongs to the town {owner}."
    return None


def _write(creates: list[dict[str, Any]], updates: list[dict[str, Any]],
           postal: dict[str, list[str]]) -> None:
    if updates:
        # A SIREN moving from one town to another must leave before it arrives.
        session.execute(sa.update(Town).where(Town.insee.in_([u["insee"] for u in updates]))
                        .values(siren=None))
    for start in range(0, len(updates), BATCH):
        session.execute(sa.update(Town), updates[start:start + BATCH])
    for start in range(0, len(creates), BATCH):
        session.execute(sa.insert(Town), creates[start:start + BATCH])
    changed = list(postal)
    for start in range(0, len(changed), BATCH):
        session.execute(sa.delete(PostalCode)
                        .where(PostalCode.town_insee.in_(changed[start:start + BATCH])))
    rows = [{"town_insee": insee, "code": code}
            for insee, codes in postal.items() for code in codes]
    for start in range(0, len(rows), BATCH):
        session.execute(sa.insert(PostalCode), rows[start:start + BATCH])
    session.expire_all()
