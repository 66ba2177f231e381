"""Browser assets (Leaflet and its plugins) fetched from the npm registry at set-up.

The pages never load anything from a CDN: district intranets have no internet. Each package
is pinned by version and by the registry's sha512 integrity; the files the pages use are
unpacked into static/vendor/<package>/. `gis-app assets fetch` does it (make run/test call it).
"""

from __future__ import annotations

import base64
import hashlib
import io
import tarfile
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from gis_app.core.localdb import PROJECT_ROOT

VENDOR_DIR = PROJECT_ROOT / "static" / "vendor"


@dataclass(frozen=True)
class Asset:
    package: str
    version: str
    integrity: str  # "sha512-<base64>" as the registry publishes it
    # path inside the tarball (below package/) -> path below static/vendor/<package>/;
    # a path ending in "/" copies a whole folder
    files: dict[str, str] = field(default_factory=dict)

    def tarball_url(self, registry: str) -> str:
        name = self.package.rsplit("/", 1)[-1]
        return f"{registry.rstrip('/')}/{self.package}/-/{name}-{self.version}.tgz"

    @property
    def target(self) -> Path:
        return VENDOR_DIR / self.package.replace("/", "__")


ASSETS: list[Asset] = [
    Asset(
        "leaflet",
        "1.9.4",
        "sha512-nxS1ynzJOmOlHp+iL3FyWqK89GtNL8U8rvlMOsQdTTssxZwCXh8N2NB3GDQOL+YR3XnWyZAxwQixURb+FA74PA==",
        {
            "dist/leaflet.js": "leaflet.js",
            "dist/leaflet.css": "leaflet.css",
            "dist/images/": "images/",
            "LICENSE": "LICENSE",
        },
    ),
]


def _verify(asset: Asset, data: bytes) -> None:
    algo, _, expected = asset.integrity.partition("-")
    digest = base64.b64encode(hashlib.new(algo, data).digest()).decode()
    if digest != expected:
        raise RuntimeError(
            f"{asset.package}@{asset.version}: 下载内容的校验值不符（{algo}），已拒绝使用"
        )


def _stamp(asset: Asset) -> Path:
    return asset.target / f".{asset.version}.ok"


def fetch(asset: Asset, registry: str, echo=print) -> bool:  # noqa: ANN001
    """Download, verify and unpack one package; False if it was already in place."""
    if _stamp(asset).exists():
        return False
    url = asset.tarball_url(registry)
    echo(f"[assets] {asset.package}@{asset.version} <- {url}")
    with urllib.request.urlopen(url, timeout=60) as response:
        data = response.read()
    _verify(asset, data)
    asset.target.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        members = {
            m.name.split("/", 1)[1]: m for m in tar.getmembers() if m.isfile() and "/" in m.name
        }
        for src, dest in asset.files.items():
            chosen = (
                {k: v for k, v in members.items() if k.startswith(src)}
                if src.endswith("/")
                else {src: members.get(src)}
            )
            if not chosen or None in chosen.values():
                raise RuntimeError(f"{asset.package}: 包中没有 {src}")
            for name, member in chosen.items():
                out = asset.target / (dest + name[len(src) :] if src.endswith("/") else dest)
                out.parent.mkdir(parents=True, exist_ok=True)
                extracted = tar.extractfile(member)
                assert extracted is not None
                out.write_bytes(extracted.read())
    _stamp(asset).write_text(asset.integrity + "\n")
    return True


def fetch_all(registry: str, echo=print) -> int:  # noqa: ANN001
    """Fetch every pinned asset that is missing from `registry` (NPM_REGISTRY in the settings);
    returns how many were fetched."""
    return sum(fetch(asset, registry, echo) for asset in ASSETS)
