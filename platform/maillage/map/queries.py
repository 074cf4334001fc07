"""The numbers of each department, as anybody may read them: three grouped counts.

What a visitor may not see counts for nothing: an initiative or a request a moderator hid,
and a confidential request (a security incident), whoever is reading, since a count in a
small department would name the town.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import InstrumentedAttribute

from maillage.database import session
from maillage.help.models import HelpRequest, Status
from maillage.help.queries import shown_to
from maillage.initiatives.models import Initiative
from maillage.networks.models import NetworkMembership
from maillage.towns.models import Department, Town

MEASURES = ("initiatives", "towns", "requests")


@dataclass(frozen=True)
class DepartmentCounts:
    code: str
    name: str
    initiatives: int
    towns: int
    requests: int

    def count(self, measure: str) -> int:
        """The number of `measure`, one of `MEASURES`."""
        return int(getattr(self, measure))


def _per_department(town_insee: InstrumentedAttribute[str], counted: sa.ColumnElement[int],
                    *where: sa.ColumnElement[bool]) -> dict[str, int]:
    """`counted` of the rows of `town_insee`'s model matching `where`, by their town's
    department."""
    query = (sa.select(Town.department_code, counted).select_from(town_insee.class_)
             .join(Town, Town.insee == town_insee).where(*where)
             .group_by(Town.department_code))
    return dict(session.execute(query).all())


def department_counts() -> dict[str, DepartmentCounts]:
    """Every department by code, in the order of the codes, with its visible initiatives, its towns
    member of a network, and its open help requests a visitor may see."""
    initiatives = _per_department(Initiative.town_insee, sa.func.count(),
                                  Initiative.hidden_at.is_(None))
    # A town in two networks is one town of the network.
    towns = _per_department(NetworkMembership.town_insee,
                            sa.func.count(sa.distinct(NetworkMembership.town_insee)))
    requests = _per_department(HelpRequest.town_insee, sa.func.count(), shown_to(None),
                               HelpRequest.status == Status.OPEN)
    return {code: DepartmentCounts(code, name, initiatives.get(code, 0), towns.get(code, 0),
                                   requests.get(code, 0))
            for code, name in session.execute(
                sa.select(Department.code, Department.name).order_by(Department.code))}
