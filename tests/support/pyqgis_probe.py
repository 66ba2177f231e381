"""What QGIS itself reads: run by Debian's /usr/bin/python3 (PyQGIS lives there, not in the
virtualenv) as a subprocess of the tests, offscreen. Standalone: imports nothing of the app.

    /usr/bin/python3 tests/support/pyqgis_probe.py SPEC.json OUT.json

SPEC: {"auth": {"username": …, "password": …} (optional),
       "layers": [{"name": …, "provider": "OAPIF" | "ogr", "uri": {param: value} | "path",
                   "bbox": [xmin, ymin, xmax, ymax] (optional)}],
       "png": "file.png" (optional: the layers rendered, 1200×900)}
OUT: per layer its validity, error, feature count, fields (name, QGIS type name) and every
feature (id, attributes as JSON values, times in UTC (or as shown,
without a zone, when QGIS keeps none), point coordinates or bounding box),
plus the ids a bbox request returned.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# a temporary authentication database: nothing of the user's QGIS profile is read or written
os.environ["QGIS_AUTH_DB_DIR_PATH"] = tempfile.mkdtemp(prefix="qgis-auth-")

from qgis.core import (
    QgsApplication,
    QgsAuthMethodConfig,
    QgsDataSourceUri,
    QgsFeatureRequest,
    QgsRectangle,
    QgsVectorLayer,
)
from qgis.PyQt.QtCore import QDate, QDateTime, Qt, QTime, QVariant


def _value(value: Any) -> Any:
    if value is None or (isinstance(value, QVariant) and value.isNull()):
        return None
    if isinstance(value, QDateTime):
        if value.isNull():
            return None
        if value.timeSpec() == Qt.LocalTime:
            # a time without a zone, shown as it is (the wall clock QGIS displays)
            return value.toString("yyyy-MM-ddTHH:mm:ss.zzz")
        return value.toUTC().toString(Qt.ISODateWithMs)
    if isinstance(value, QDate):
        return None if value.isNull() else value.toString(Qt.ISODate)
    if isinstance(value, QTime):
        return None if value.isNull() else value.toString(Qt.ISODate)
    if isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def _geometry(feature: Any) -> Any:
    geom = feature.geometry()
    if geom is None or geom.isNull():
        return None
    if geom.type() == 0:  # point
        p = geom.asPoint()
        return {"point": [p.x(), p.y()]}
    box = geom.boundingBox()
    return {"bbox": [box.xMinimum(), box.yMinimum(), box.xMaximum(), box.yMaximum()]}


def _basic_auth(spec: dict[str, Any]) -> str:
    manager = QgsApplication.authManager()
    if not manager.setMasterPassword("pyqgis-probe", True):
        raise SystemExit("cannot initialise the QGIS authentication database")
    config = QgsAuthMethodConfig("Basic")
    config.setName("gis-app")
    config.setConfig("username", spec["username"])
    config.setConfig("password", spec["password"])
    ok, stored = manager.storeAuthenticationConfig(config)
    if not ok:
        raise SystemExit("cannot store the Basic authentication configuration")
    return stored.id()


def _layer(spec: dict[str, Any], authcfg: str | None) -> QgsVectorLayer:
    if spec["provider"] == "OAPIF":
        uri = QgsDataSourceUri()
        for key, value in spec["uri"].items():
            uri.setParam(key, value)
        if authcfg:
            uri.setAuthConfigId(authcfg)
        return QgsVectorLayer(uri.uri(False), spec["name"], "OAPIF")
    return QgsVectorLayer(spec["uri"], spec["name"], spec["provider"])


def _read(layer: QgsVectorLayer, spec: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"valid": layer.isValid()}
    if not layer.isValid():  # (QgsMapLayer.error() crashes 3.22 here: not read)
        return out
    fields = layer.fields()
    out["fields"] = [{"name": f.name(), "type": f.typeName(), "variant": f.type()} for f in fields]
    out["feature_count"] = layer.featureCount()
    features = []
    for feature in layer.getFeatures():
        attributes = {f.name(): _value(feature[f.name()]) for f in fields}
        features.append(
            {"fid": feature.id(), "attributes": attributes, **(_geometry(feature) or {})}
        )
    out["features"] = features
    if spec.get("bbox"):
        request = QgsFeatureRequest().setFilterRect(QgsRectangle(*spec["bbox"]))
        out["bbox_fids"] = [f.id() for f in layer.getFeatures(request)]
        key = spec.get("id_field", "id")
        out["bbox_ids"] = [_value(f[key]) for f in layer.getFeatures(request)]
    return out


def _render(layers: list[QgsVectorLayer], path: str) -> None:
    from qgis.core import QgsMapRendererSequentialJob, QgsMapSettings
    from qgis.PyQt.QtCore import QSize
    from qgis.PyQt.QtGui import QColor

    settings = QgsMapSettings()
    settings.setLayers(layers)  # the first is drawn on top
    extent = QgsRectangle()
    for layer in layers:
        extent.combineExtentWith(layer.extent())
    extent.scale(1.05)
    settings.setDestinationCrs(layers[-1].crs())
    settings.setExtent(extent)
    settings.setOutputSize(QSize(1200, 900))
    settings.setBackgroundColor(QColor("white"))
    job = QgsMapRendererSequentialJob(settings)
    job.start()
    job.waitForFinished()
    if not job.renderedImage().save(path, "PNG"):
        raise SystemExit(f"cannot write {path}")


def main(spec_path: str, out_path: str) -> None:
    with open(spec_path, encoding="utf-8") as f:
        spec = json.load(f)
    QgsApplication.setPrefixPath("/usr", True)
    app = QgsApplication([], False)
    app.initQgis()
    authcfg = _basic_auth(spec["auth"]) if spec.get("auth") else None
    result: dict[str, Any] = {"layers": {}}
    layers = []
    for layer_spec in spec["layers"]:
        layer = _layer(layer_spec, authcfg)
        layers.append(layer)
        result["layers"][layer_spec["name"]] = _read(layer, layer_spec)
    if spec.get("png") and all(layer.isValid() for layer in layers):
        _style(layers)
        _render(layers, spec["png"])
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump(result, f, ensure_ascii=False)
    # QGIS 3.22 may crash while tearing down its providers after the work is done: the
    # findings are written, leave without the teardown
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def _style(layers: list[QgsVectorLayer]) -> None:
    """Sites as red dots over pale street polygons with their outlines."""
    from qgis.core import QgsFillSymbol, QgsMarkerSymbol

    for layer in layers:
        if layer.geometryType() == 0:
            symbol = QgsMarkerSymbol.createSimple(
                {"name": "circle", "color": "#d7301f", "size": "2.2", "outline_color": "white"}
            )
        else:
            symbol = QgsFillSymbol.createSimple(
                {"color": "#f2f0e6", "outline_color": "#5b6b7a", "outline_width": "0.4"}
            )
        layer.renderer().setSymbol(symbol)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
