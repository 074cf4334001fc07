"""The documentation names only what exists: the files and folders of the repository, the tests
it cites, and the commands of `maillage` (the README's list is the whole list).

A path counts as the repository's when its first part is a folder of the repository (at its
root, beside the document, or in `platform/maillage/`, whose paths the docs give from the
package), or when it is a bare file name of the kinds the repository holds: a document that
names `instance/mail/` (made at run time), `text/csv` or `/api/v1` names no file of it.
"""

from __future__ import annotations

import re
import subprocess
from itertools import product
from pathlib import Path, PurePosixPath

import click

from maillage.cli import main

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = PurePosixPath("platform/maillage")
# Bare names of these kinds are files; `maillage.db` (made at run time), `Theme.name` or
# `Node.js` are not.
FILE_KINDS = {".md", ".py", ".js", ".css", ".html", ".json", ".toml", ".cfg", ".po", ".pot",
              ".txt", ".csv", ".gz"}
PROSE_KINDS = {".md", ".py"}  # in prose, outside backquotes: "see DESIGN.md"
QUOTED = re.compile(r"`([^`\n]+)`")
LINK = re.compile(r"\]\(([^)\s]+)\)")
WORD = re.compile(r"[^\s()\[\],;\"']+")


def repository() -> tuple[set[str], set[str]]:
    """The repository's files, tracked or not yet, but not those git ignores; and its folders."""
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"],
                            cwd=ROOT, capture_output=True, text=True, check=True).stdout
    files = {line for line in listed.splitlines() if (ROOT / line).exists()}
    folders = {str(parent) for name in files for parent in PurePosixPath(name).parents}
    return files, folders - {"."}


FILES, FOLDERS = repository()
NAMES = {PurePosixPath(name).name for name in FILES}
# Every document but the licences of data files, which name the files upstream they come from.
DOCUMENTS = sorted(name for name in FILES
                   if name.endswith(".md") and not PurePosixPath(name).name.startswith("LICENCE"))


def exists(path: str) -> bool:
    return path.rstrip("/") in (FOLDERS if path.endswith("/") else FILES | FOLDERS)


def is_named_file(name: str, kinds: set[str]) -> bool:
    """Whether a bare `name` (no folder) is a file name of `kinds`."""
    suffix = PurePosixPath(name).suffix
    return suffix in kinds and PurePosixPath(name).stem not in {"", "*"}


def missing_path(document: str, path: str, kinds: set[str]) -> str | None:
    """`path` if a document names it as the repository's and it is not there, else None."""
    path = path.rstrip(".:").removeprefix("./")  # the end of a sentence; `./instance`
    if path.startswith(("/", "<", "~", "$")) or re.search(r"[<>*{}=@]|\.\.\.|://", path):
        return None
    if "/" not in path.rstrip("/"):
        if path.endswith("/") or not is_named_file(path, kinds):
            return None
        return None if path in NAMES else path
    if kinds is PROSE_KINDS and not (path.endswith("/") or PurePosixPath(path).suffix):
        return None  # in prose, a path ends as a file or a folder does: not "emails/s"
    here = PurePosixPath(document).parent
    first = path.split("/", 1)[0]
    bases = [base for base in (PurePosixPath(), here, PACKAGE) if str(base / first) in FOLDERS]
    if not bases:
        return None  # not a path of the repository: a MIME type, a time zone, a network
    suffix = "/" if path.endswith("/") else ""
    return None if any(exists(f"{base / path}{suffix}") for base in bases) else path


def missing_test(node: str) -> str | None:
    """`file::test` if the test function is not in its file (the file checked apart)."""
    path, _, function = node.partition("::")
    if path not in FILES or not function:
        return None
    source = (ROOT / path).read_text(encoding="utf-8")
    return None if re.search(rf"^def {re.escape(function)}\(", source, re.M) else node


def test_the_rule_tells_a_missing_file_from_what_is_no_file() -> None:
    assert missing_path("docs/architecture.md", "DESIGN.md", PROSE_KINDS) == "DESIGN.md"
    assert missing_path("README.md", "docs/nothing.md", FILE_KINDS) == "docs/nothing.md"
    assert missing_path("README.md", "realtime/nothing.py", FILE_KINDS) == "realtime/nothing.py"
    assert missing_path("README.md", "tests/nowhere/", FILE_KINDS) == "tests/nowhere/"
    for named in ("docs/operations.md", "realtime/emit.py", "towns/data/", "Procfile",
                  "LICENCE-DATA.md", "bench/README.md.", "queues.py"):
        assert missing_path("README.md", named, FILE_KINDS) is None, named
    assert missing_path("README.md", "Node.js", PROSE_KINDS) is None
    assert missing_path("bench/README.md", "emails/s", PROSE_KINDS) is None
    for other in ("instance/mail/", "./instance", "text/csv", "/api/v1", "maillage.db",
                  "<feature>/events.py", "mail/*.txt", "https://example.org/a.md"):
        assert missing_path("README.md", other, FILE_KINDS) is None, other
    assert missing_test("tests/cli/test_cli.py::test_nothing_at_all")
    assert missing_test("tests/cli/test_serve.py::test_several_workers_need_redis") is None


def test_the_documents_name_only_files_that_exist() -> None:
    assert {"README.md", "docs/architecture.md", "docs/operations.md"} <= set(DOCUMENTS)
    missing = []
    for document in DOCUMENTS:
        text = (ROOT / document).read_text(encoding="utf-8")
        quoted = QUOTED.findall(text)
        named = [(path, FILE_KINDS) for span in quoted for path in span.split()]
        named += [(link, FILE_KINDS) for link in LINK.findall(text)]
        named += [(word, PROSE_KINDS) for word in WORD.findall(QUOTED.sub(" ", text))]
        for path, kinds in named:
            wrong = (missing_test(path) if "::" in path
                     else missing_path(document, path, kinds))
            if wrong:
                missing.append(f"{document}: {wrong}")
    assert sorted(set(missing)) == []


def test_the_layout_of_the_architecture_names_what_exists() -> None:
    """docs/architecture.md's tree: a name at the left of a line, under the folder above it."""
    text = (ROOT / "docs/architecture.md").read_text(encoding="utf-8")
    tree = text.split("## Layout", 1)[1].split("```", 2)[1]
    missing, folder, entries = [], "", 0
    for line in tree.splitlines()[1:]:
        depth = len(line) - len(line.lstrip())
        if depth > 2 or not line.strip():
            continue  # the description of the name above
        words = line.split()
        if "<" in words[0]:
            continue  # a pattern: `<feature>/`
        names = [words[0]]  # then more names, up to the description
        for word in words[1:]:
            if not (word.endswith("/") or re.fullmatch(r"[\w-]+\.\w+", word)):
                break
            names.append(word)
        for name in names:
            path = name if depth == 0 else folder + name
            entries += 1
            if not exists(path):
                missing.append(path)
        if depth == 0 and words[0].endswith("/"):
            folder = words[0]
    assert entries > 60  # the tree was read
    assert missing == []


def commands(group: click.Group, prefix: str = "") -> set[str]:
    """Every command of Maillage in `group` that runs something, by its full name (`users
    create`); not those Flask adds from the extensions' entry points (`limiter`, `openapi`)."""
    found = set()
    for name, command in group.commands.items():
        if not command.callback.__module__.startswith(("maillage.", "workers.")):
            continue
        if isinstance(command, click.Group):
            found |= commands(command, f"{prefix}{name} ")
        else:
            found.add(prefix + name)
    return found


def test_the_readme_lists_every_command_once() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    [paragraph] = re.findall(r"`maillage --help` lists.*?\n\n", text, re.S)
    listed = []
    for entry in QUOTED.findall(paragraph):
        if entry.startswith("maillage "):
            continue  # `maillage --help`, `maillage COMMAND --help`
        listed += [" ".join(words) for words in product(*(w.split("|") for w in entry.split()))]
    assert len(listed) == len(set(listed))
    assert set(listed) == commands(main)
