"""Running tests/support/pyqgis_probe.py: PyQGIS lives in Debian's system Python
(python3-qgis), not in the virtualenv, so the probe runs as a subprocess of /usr/bin/python3,
offscreen, with a home of its own."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

SYSTEM_PYTHON = "/usr/bin/python3"
PROBE = Path(__file__).parent / "pyqgis_probe.py"


def _pyqgis_missing() -> str | None:
    if not os.path.exists(SYSTEM_PYTHON):
        return f"{SYSTEM_PYTHON} is missing"
    found = subprocess.run(
        [SYSTEM_PYTHON, "-c", "import qgis.core"], capture_output=True, timeout=120, check=False
    )
    if found.returncode != 0:
        return (
            "PyQGIS is not installed in the system Python: apt-get install qgis python3-qgis "
            "(make os-test does it on Debian)"
        )
    return None


#: why the PyQGIS tests are skipped, or None when PyQGIS is there
MISSING = _pyqgis_missing()


def run_probe(tmp: Path, spec: dict[str, Any]) -> dict[str, Any]:
    """The probe's findings for `spec` (see tests/support/pyqgis_probe.py)."""
    spec_path, out_path = tmp / "spec.json", tmp / "out.json"
    spec_path.write_text(json.dumps(spec, ensure_ascii=False), encoding="utf-8")
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
        "HOME": str(tmp),  # QGIS writes its settings under the home directory
        "XDG_RUNTIME_DIR": str(tmp),
    }
    env.pop("PYTHONPATH", None)
    env.pop("VIRTUAL_ENV", None)
    result = subprocess.run(
        [SYSTEM_PYTHON, str(PROBE), str(spec_path), str(out_path)],
        capture_output=True,
        timeout=300,
        check=False,
        env=env,
        cwd=tmp,
    )
    assert result.returncode == 0, result.stderr.decode(errors="replace")[-3000:]
    return json.loads(out_path.read_text(encoding="utf-8"))
