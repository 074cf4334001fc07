"""CPU accounting: the seconds each part of the benchmark used, from /proc."""

from __future__ import annotations

import os
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import sqlalchemy as sa

TICK = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str]:
    text = Path(f"/proc/{pid}/stat").read_text()
    return text[text.rindex(")") + 2:].split()  # the fields after the command name


def process_tree(pids: Sequence[int]) -> list[int]:
    """Return `pids` and all their descendants (gunicorn's worker is its master's child)."""
    parents: dict[int, list[int]] = defaultdict(list)
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(_stat(int(entry.name))[1])].append(int(entry.name))
            except (OSError, ValueError, IndexError):
                continue
    found, todo = [], list(pids)
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(parents.get(pid, []))
    return found


def processes_named(*names: str) -> list[int]:
    """Return the ids of the processes whose command name is one of `names`."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() in names:
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds used so far by process `pid`; None when it is gone."""
    try:
        fields = _stat(pid)
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / TICK


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine spent not idle, on all cores, since boot."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / TICK


def backends_of(database_url: str) -> Callable[[], list[int]]:
    """Return a function listing the PostgreSQL backends serving our database (not others')."""
    engine = sa.create_engine(database_url, poolclass=sa.pool.NullPool)

    def backends() -> list[int]:
        with engine.connect() as connection:
            return list(connection.scalars(sa.text(
                "SELECT pid FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()")))

    return backends


class CpuMeter:
    """CPU seconds used by each part of the benchmark between `start` and `stop`.

    Each role is a function listing its processes; one that appears during a phase counts
    whole. The rest of the machine (other people's work on a shared machine) is what the
    machine spent beyond all the roles.
    """

    def __init__(self, roles: dict[str, Callable[[], list[int]]]) -> None:
        self.roles = roles

    def _snapshot(self) -> dict[str, dict[int, float]]:
        return {role: {pid: used for pid in pids() if (used := cpu_seconds(pid)) is not None}
                for role, pids in self.roles.items()}

    def start(self) -> None:
        self.before = self._snapshot()
        self.wall = time.time()
        self.machine = machine_busy_seconds()

    def stop(self) -> dict[str, Any]:
        wall = time.time() - self.wall
        machine = machine_busy_seconds() - self.machine
        after = self._snapshot()
        used = {role: sum(seconds - self.before[role].get(pid, 0.0)
                          for pid, seconds in after[role].items())
                for role in self.roles}
        used["rest_of_machine"] = machine - sum(used.values())
        return {"wall_s": round(wall, 2),
                "cpu_s": {role: round(seconds, 2) for role, seconds in used.items()},
                "cores_busy": {role: round(seconds / wall, 2) for role, seconds in used.items()},
                "machine_cores_busy": round(machine / wall, 2)}
