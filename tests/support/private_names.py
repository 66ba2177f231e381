"""No private names across modules: fail on `from x import _name` and on `module._name`
where `module` is an imported module of the project.

A leading underscore says "for this module only"; a helper another module needs gets a public
name (in the module it belongs to). A private *submodule* (`pkg/_part.py`) may still be imported
by the modules of its own package. Dunder names (`__version__`) are not private.

Usage: python -m tests.support.private_names [PATH ...]
(default: gis_app layers bench migrations tests)
Exit status 1 and one line per violation, `path:line: message`, when there are any.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

DEFAULT_PATHS = ("gis_app", "layers", "bench", "migrations", "tests")


def is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


@dataclass(frozen=True)
class Violation:
    path: Path
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


def module_name(path: Path, root: Path) -> str:
    """`gis_app/core/clock.py` -> `gis_app.core.clock`; a package's `__init__.py` -> the package."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


class Project:
    """The modules under `root` (a directory holding top-level packages), by dotted name."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def is_module(self, dotted: str) -> bool:
        base = self.root.joinpath(*dotted.split("."))
        return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def resolve_from(node: ast.ImportFrom, importer: str, is_package: bool) -> str:
    """The absolute module name of `from <module> import ...` in module `importer`."""
    if not node.level:
        return node.module or ""
    package = importer.split(".") if is_package else importer.split(".")[:-1]
    base = package[: len(package) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def _dotted(node: ast.expr) -> list[str] | None:
    """`a.b.c` as ["a", "b", "c"]; None when the chain does not start from a plain name."""
    names: list[str] = []
    while isinstance(node, ast.Attribute):
        names.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    names.append(node.id)
    return names[::-1]


def check_source(source: str, path: Path, importer: str, project: Project) -> Iterator[Violation]:
    tree = ast.parse(source, filename=str(path))
    is_package = path.name == "__init__.py"
    # the names bound to the project's modules in this file: local name -> module name
    modules: dict[str, str] = {}
    attributes: list[ast.Attribute] = []  # of a private name, checked once the imports are known
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            if is_private(node.attr):
                attributes.append(node)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if not project.is_module(alias.name):
                    continue
                if alias.asname:
                    modules[alias.asname] = alias.name
                else:
                    top = alias.name.split(".")[0]
                    modules[top] = top
        elif isinstance(node, ast.ImportFrom):
            source_module = resolve_from(node, importer, is_package)
            for alias in node.names:
                target = f"{source_module}.{alias.name}"
                if is_private(alias.name) and not (
                    project.is_module(target) and importer.startswith(source_module + ".")
                ):
                    yield Violation(
                        path,
                        node.lineno,
                        f"private name {alias.name} imported from {source_module}",
                    )
                if alias.name != "*" and project.is_module(target):
                    modules[alias.asname or alias.name] = target
    for node in attributes:
        chain = _dotted(node.value)
        if chain is None or chain[0] not in modules:
            continue
        owner = ".".join([modules[chain[0]], *chain[1:]])
        if project.is_module(owner) and owner != importer:
            yield Violation(
                path, node.lineno, f"private name {node.attr} of module {owner} used here"
            )


def python_files(paths: Iterable[Path]) -> Iterator[Path]:
    for path in paths:
        if path.is_file() and path.suffix == ".py":
            yield path
        elif path.is_dir():
            yield from sorted(p for p in path.rglob("*.py") if "__pycache__" not in p.parts)


def check(paths: Iterable[Path], root: Path) -> list[Violation]:
    project = Project(root)
    found: list[Violation] = []
    for path in python_files(paths):
        full = path if path.is_absolute() else root / path
        found.extend(
            check_source(full.read_text(encoding="utf-8"), path, module_name(full, root), project)
        )
    return found


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    root = Path.cwd()
    found = check([Path(a) for a in args or DEFAULT_PATHS], root)
    for violation in found:
        print(violation)
    if found:
        print(
            f"{len(found)} private name(s) used across modules: give the helper a public name"
            " in the module it belongs to",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
