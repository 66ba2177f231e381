"""The checks `make lint` runs fail on a deliberate violation: lint-imports with the project's
own contracts (pyproject.toml) on a throw-away `gis_app`, and tests/support/private_names.py."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

from tests.support import private_names

ROOT = Path(__file__).resolve().parents[3]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def importlinter_config() -> str:
    """The [tool.importlinter] section of the project's pyproject.toml, as TOML again."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    linter = config["tool"]["importlinter"]
    lines = ["[tool.importlinter]"]
    lines += [f"{k} = {toml_value(v)}" for k, v in linter.items() if k != "contracts"]
    for contract in linter["contracts"]:
        lines += ["", "[[tool.importlinter.contracts]]"]
        lines += [f"{k} = {toml_value(v)}" for k, v in contract.items()]
    return "\n".join(lines) + "\n"


def toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


#: a small app with the project's layout that keeps every contract
CLEAN = {
    "gis_app/__init__.py": "",
    "gis_app/settings.py": "from gis_app.core import clock\n",
    "gis_app/core/__init__.py": "",
    "gis_app/core/clock.py": "import datetime\n",
    "gis_app/http/__init__.py": "",
    "gis_app/http/errors.py": "import flask\nfrom gis_app.core import clock\n",
    "gis_app/features/__init__.py": "",
    "gis_app/features/ledger/__init__.py": "",
    "gis_app/features/ledger/models.py": "from gis_app.core import clock\n",
    "gis_app/features/ledger/service.py": "from gis_app.features.ledger import models\n",
    "gis_app/features/ledger/api.py": "import flask\nfrom gis_app.features.ledger import service\n",
    "gis_app/features/maps/__init__.py": "",
    "gis_app/features/maps/service.py": "from gis_app.features.ledger import models, service\n",
    "gis_app/features/maps/pages.py": "from gis_app.features import ledger\nimport layers\n",
    "layers/__init__.py": "",
    "layers/palette.py": "import yaml\n",
}


def lint_imports(tmp_path: Path, files: dict[str, str]) -> subprocess.CompletedProcess[str]:
    write(tmp_path, {**CLEAN, **files, "pyproject.toml": importlinter_config()})
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_contracts_keep_a_clean_app(tmp_path: Path) -> None:
    result = lint_imports(tmp_path, {})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_a_feature_importing_another_features_private_module_breaks_a_contract(
    tmp_path: Path,
) -> None:
    result = lint_imports(
        tmp_path, {"gis_app/features/maps/pages.py": "from gis_app.features.ledger import api\n"}
    )
    assert result.returncode == 1
    assert "features use each other only through their public modules BROKEN" in result.stdout
    assert "gis_app.features.maps.pages -> gis_app.features.ledger.api" in result.stdout


def test_core_importing_flask_or_http_breaks_a_contract(tmp_path: Path) -> None:
    result = lint_imports(
        tmp_path, {"gis_app/core/clock.py": "import flask\nfrom gis_app.http import errors\n"}
    )
    assert result.returncode == 1
    assert "gis_app.core is not allowed to import flask" in result.stdout
    assert "gis_app.core is not allowed to import gis_app.http" in result.stdout


def test_http_importing_a_feature_and_layers_importing_gis_app_break_contracts(
    tmp_path: Path,
) -> None:
    result = lint_imports(
        tmp_path,
        {
            "gis_app/http/errors.py": "from gis_app.features.ledger import service\n",
            "layers/palette.py": "from gis_app.core import clock\n",
        },
    )
    assert result.returncode == 1
    assert "gis_app.http.errors -> gis_app.features.ledger.service" in result.stdout
    assert "layers.palette -> gis_app.core.clock" in result.stdout


def test_private_names_across_modules_are_found(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/a.py": "def _hidden() -> None: ...\n",
            "pkg/_part.py": "X = 1\n",
            "pkg/b.py": (
                "from pkg.a import _hidden\n"
                "import pkg.a as a\n"
                "from pkg import _part, a as same\n"  # its own package's private module: fine
                "from . import a as rel\n"
                "a._hidden()\n"
                "rel._hidden()\n"
                "same.__name__\n"  # dunder names are not private
            ),
            "other/__init__.py": "from pkg import _part\n",
        },
    )
    found = [str(v) for v in private_names.check([tmp_path], tmp_path)]
    assert found == [
        f"{tmp_path}/other/__init__.py:1: private name _part imported from pkg",
        f"{tmp_path}/pkg/b.py:1: private name _hidden imported from pkg.a",
        f"{tmp_path}/pkg/b.py:5: private name _hidden of module pkg.a used here",
        f"{tmp_path}/pkg/b.py:6: private name _hidden of module pkg.a used here",
    ]


def test_the_checker_fails_on_the_command_line(tmp_path: Path) -> None:
    write(tmp_path, {"p/__init__.py": "", "p/a.py": "_x = 1\n", "p/b.py": "from p.a import _x\n"})
    result = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "support" / "private_names.py"), "p"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert result.stdout == "p/b.py:1: private name _x imported from p.a\n"
    assert "1 private name(s) used across modules" in result.stderr


def test_the_project_has_no_private_names_across_modules() -> None:
    paths = [ROOT / p for p in private_names.DEFAULT_PATHS]
    assert [str(v) for v in private_names.check(paths, ROOT)] == []
