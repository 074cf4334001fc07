"""The figures: each one SQL query over the data, on SQLite and PostgreSQL alike.

`FIGURES` names them: the networks' (`figures.networks`) and the activity's
(`figures.activity`), each a `Figure` (`figures.figure`). Each takes only the arguments that
mean something for it, so `compute` refuses the others instead of ignoring them.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from maillage.errors import Invalid
from maillage.figures.activity import help_answers, help_requests, incidents, initiatives
from maillage.figures.costs import costs
from maillage.figures.figure import Figure
from maillage.figures.networks import bands, board, labels, members, overlap, reach
from maillage.networks.queries import get_network

FIGURES: dict[str, Callable[..., Figure]] = {
    "bands": bands, "members": members, "overlap": overlap, "labels": labels,
    "board": board, "reach": reach, "initiatives": initiatives,
    "help_requests": help_requests, "help_answers": help_answers, "incidents": incidents,
    "costs": costs,
}


def arguments_of(name: str) -> list[str]:
    """The arguments the figure `name` takes."""
    return list(inspect.signature(FIGURES[name]).parameters)


def compute(name: str, args: dict[str, Any]) -> Figure:
    """Compute the figure `name` with `args` (`network` as a slug); an argument it does not
    take, or an unknown network, is refused field by field."""
    accepted = arguments_of(name)
    errors = {key: [f"The figure {name} does not take {key}."]
              for key in sorted(args) if key not in accepted}
    values = dict(args)
    if "network" in values:
        values["network"] = get_network(args["network"])
        if values["network"] is None:
            errors["network"] = [f"No network has the slug {args['network']}."]
    if errors:
        raise Invalid(errors)
    return FIGURES[name](**values)
