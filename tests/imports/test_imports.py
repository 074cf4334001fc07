"""No import cycles in `maillage` and `workers`, and the layers of docs/architecture.md kept.

Every import counts, at module level, inside a function or under `if TYPE_CHECKING:` alike,
so that a cycle or a step up cannot hide in any of them."""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ((ROOT / "platform", "maillage"), (ROOT, "workers"))

# The packages of `maillage`, lowest first: a package's models, operations, queries and
# schemas use those of its own layer and the layers below, never above. Within a layer they
# may use each other (the cycle test keeps that one way).
LAYERS = (
    ("mail",),
    ("towns",),
    ("themes",),
    ("accounts",),
    ("initiatives", "help", "follows", "networks", "search", "oidc", "attachments"),
    ("notifications",),
    ("emails", "moderation", "figures", "map", "privacy", "home", "replies", "opendata",
     "webhooks", "legal"),
    ("realtime",),
    ("health",),
)
# The modules at a package's edge (pages, endpoints, commands, what its events cause): they use
# any package's inner modules, and no inner module uses them. Pages share page helpers, and
# endpoints endpoint helpers (the files upload of `attachments.api`), across packages.
EDGES = {"views", "api", "cli", "reactions"}
SHARING_EDGES = {"views", "api"}
# Shared modules made of several (a back end a file): known to no feature but through their
# `__init__`, and knowing only themselves.
SHARED_PACKAGES = {"storage"}
# The shared modules that know the features: the app, its commands and its registries.
# `policy` and `rooms` read models, nothing else of the features; the others know none.
ABOVE_ALL = {"maillage.app", "maillage.cli", "maillage.wsgi", "maillage.server", "maillage.demo",
             "maillage.features", "maillage.models"}
READ_MODELS = {"maillage.policy", "maillage.rooms"}


def modules() -> dict[str, Path]:
    """Every module of the two packages by dotted name; a package is its `__init__.py`."""
    found = {}
    for root, package in SOURCES:
        for path in (root / package).rglob("*.py"):
            parts = path.relative_to(root).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def imported(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The modules of `known` that the module `name` imports anywhere in its source."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: `.` is the package, each further dot its parent
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}".rstrip(".")
            for alias in node.names:  # `from a import b`: the module a.b, or a name of a
                targets.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base)
    return {target for target in targets if target in known and target != name}


def test_no_import_cycles() -> None:
    known = modules()
    graph = {name: imported(name, path, known) for name, path in known.items()}
    assert {"maillage.app", "maillage.reactions", "workers.events"} <= graph.keys()
    try:
        TopologicalSorter(graph).prepare()
    except CycleError as error:
        raise AssertionError("import cycle: " + " -> ".join(reversed(error.args[1]))) from None


def layer(package: str) -> int:
    return next(i for i, packages in enumerate(LAYERS) if package in packages)


def test_every_package_has_its_layer() -> None:
    packages = {path.parent.name for path in (ROOT / "platform" / "maillage").glob("*/__init__.py")}
    above = {name.split(".")[1] for name in ABOVE_ALL}
    assert packages - above - SHARED_PACKAGES == {package for packages in LAYERS
                                                  for package in packages}


def test_imports_go_down_the_layers() -> None:
    known = modules()
    wrong = []
    for name, path in sorted(known.items()):
        parts = name.split(".")
        if parts[0] != "maillage" or name in ABOVE_ALL:
            continue
        for target in sorted(imported(name, path, known)):
            into = target.split(".")
            if len(into) < 3:
                continue  # a shared module: anything may use it
            if SHARED_PACKAGES & {parts[1], into[1]}:
                allowed = parts[1] == into[1]
            elif len(parts) < 3 or name.startswith("maillage.realtime"):
                allowed = name in READ_MODELS and into[2] == "models"
                allowed = allowed or name.startswith("maillage.realtime")
            elif parts[2] in EDGES:
                allowed = into[2] not in EDGES or (into[2] == parts[2]
                                                   and into[2] in SHARING_EDGES)
            else:
                allowed = into[2] not in EDGES and layer(into[1]) <= layer(parts[1])
            if not allowed:
                wrong.append(f"{name} -> {target}")
    assert wrong == []
