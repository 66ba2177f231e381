"""Ledger import: CSV (UTF-8, GBK), .xlsx, GeoJSON; every bad-row kind; all-or-nothing."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import Workbook
from sqlalchemy import func, select

from gis_app.core.actor import Actor
from gis_app.core.errors import ImportRejected, ValidationError
from gis_app.core.geo.gcj02 import wgs84_to_gcj02
from gis_app.features.ledger.importer import header_field, import_sites
from gis_app.features.ledger.models import ImportBatch, Site, SiteEvent

HEADERS = [
    "编号",
    "地址",
    "社区",
    "经度",
    "纬度",
    "治理方式",
    "面积（㎡）",
    "承诺期限",
    "违建类型",
    "相对人",
    "联系电话",
    "中央环保督查",
]
# points well inside 大直沽 (120102002) and 中山门 (120102003)
P1 = (117.2381, 39.1100)
P2 = (117.2560, 39.1050)
ACTOR = Actor("tester", "district_officer")


def good_rows() -> list[list[object]]:
    return [
        [
            "DZG-001",
            "大直沽中路12号",
            "文华里社区",
            P1[0],
            P1[1],
            "拆除",
            "25.5",
            "2022-06-30",
            "院内私搭乱建",
            "李某",
            "13900000001",
            "是",
        ],
        [
            "DZG-002",
            "大直沽中路14号",
            "文华里社区",
            P1[0] + 0.001,
            P1[1],
            "规范治理",
            12,
            "2022年9月30日",
            "彩钢棚厦",
            "",
            "",
            "否",
        ],
        [
            "ZSM-001",
            "中山门一号路3号",
            "",
            P2[0],
            P2[1],
            "规范治理",
            "",
            "2022年12月底",
            "",
            "",
            "",
            "",
        ],
    ]


def csv_bytes(rows: list[list[object]], encoding: str = "utf-8", headers=HEADERS) -> bytes:
    lines = [",".join(headers)] + [",".join("" if v is None else str(v) for v in r) for r in rows]
    return ("\n".join(lines) + "\n").encode(encoding)


def xlsx_bytes(rows: list[list[object]], headers=HEADERS) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(["河东区违法建设分步治理点位台账"])  # a title row above the header is common
    sheet.append([])
    sheet.append(headers)
    for r in rows:
        sheet.append(r)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def geojson_bytes(rows: list[list[object]]) -> bytes:
    features = []
    for r in rows:
        props = {h: v for h, v in zip(HEADERS, r, strict=True) if h not in ("经度", "纬度")}
        features.append(
            {
                "type": "Feature",
                "properties": props,
                "geometry": {"type": "Point", "coordinates": [r[3], r[4]]},
            }
        )
    return json.dumps(
        {"type": "FeatureCollection", "features": features}, ensure_ascii=False
    ).encode()


def _site_count(session) -> int:
    return session.scalar(select(func.count()).select_from(Site))


@pytest.mark.parametrize(
    ("filename", "data"),
    [
        ("ledger.csv", csv_bytes(good_rows())),
        ("ledger-bom.csv", b"\xef\xbb\xbf" + csv_bytes(good_rows())),
        ("ledger-gbk.csv", csv_bytes(good_rows(), "gbk")),
        ("ledger.xlsx", xlsx_bytes(good_rows())),
        ("ledger.geojson", geojson_bytes(good_rows())),
    ],
)
def test_happy_path_each_format(db_session, filename: str, data: bytes) -> None:
    report = import_sites(db_session, data, filename, ACTOR)
    assert report.imported == 3 and report.rows == 3
    assert report.by_street == {"120102002": 2, "120102003": 1}
    site = db_session.scalar(select(Site).where(Site.code == "DZG-001"))
    assert site.address == "大直沽中路12号" and site.disposition == "demolish"
    assert str(site.area_m2) == "25.50" and site.kind == "courtyard"
    assert site.flag_central_inspection is True and site.person_name == "李某"
    assert site.committed_deadline.isoformat() == "2022-06-30" == site.current_deadline.isoformat()
    assert site.source == "ledger" and site.status == "registered"
    third = db_session.scalar(select(Site).where(Site.code == "ZSM-001"))
    assert third.committed_deadline.isoformat() == "2022-12-31"
    batch = db_session.get(ImportBatch, report.batch_id)
    assert batch.rows == 3 and batch.file_format in ("csv", "xlsx", "geojson")
    events = db_session.scalars(select(SiteEvent.action).where(SiteEvent.site_id == site.id)).all()
    assert events == ["import"]


def test_english_headers(db_session) -> None:
    headers = [
        "code",
        "address",
        "community",
        "lon",
        "lat",
        "disposition",
        "area_m2",
        "committed_deadline",
        "kind",
        "person_name",
        "person_contact",
        "central_inspection",
    ]
    report = import_sites(db_session, csv_bytes(good_rows(), headers=headers), "en.csv", ACTOR)
    assert report.imported == 3


def test_every_bad_row_kind_is_listed_and_nothing_written(db_session) -> None:
    existing = good_rows()[0]
    import_sites(db_session, csv_bytes([existing]), "first.csv", ACTOR)
    before = _site_count(db_session)
    rows = [
        ["OK-1", "好的地址", "", P1[0], P1[1], "拆除", "", "2022-06-30", "", "", "", ""],  # row 2
        ["BAD-1", "", "", P1[0], P1[1], "拆除", "", "", "", "", "", ""],  # 3 address
        ["BAD-2", "某地", "", "一一七", P1[1], "拆除", "", "", "", "", "", ""],  # 4 lon NaN
        ["BAD-3", "某地", "", P1[0], 95, "拆除", "", "", "", "", "", ""],  # 5 lat range
        ["BAD-4", "某地", "", 116.40, 39.90, "拆除", "", "", "", "", "", ""],  # 6 outside
        ["BAD-5", "某地", "", P1[0], P1[1], "推倒", "", "", "", "", "", ""],  # 7 disposition
        ["OK-1", "某地", "", P1[0], P1[1], "拆除", "", "", "", "", "", ""],  # 8 dup in file
        ["DZG-001", "某地", "", P1[0], P1[1], "拆除", "", "", "", "", "", ""],  # 9 dup in db
        ["BAD-6", "某地", "", P1[0], P1[1], "拆除", "", "明年春天", "", "", "", ""],  # 10 date
        ["", "某地", "", P1[0], P1[1], "拆除", "", "", "", "", "", ""],  # 11 no code
        ["BAD-7", "某地", "", P1[1], P1[0], "拆除", "", "", "", "", "", ""],  # 12 swapped
    ]
    with pytest.raises(ImportRejected) as info:
        import_sites(db_session, csv_bytes(rows), "bad.csv", ACTOR)
    errors = info.value.errors
    by_row = {e["row"]: e for e in errors}
    assert sorted(by_row) == [3, 4, 5, 6, 7, 8, 9, 10, 11, 12]
    assert by_row[3]["field"] == "address" and "缺少地址" in by_row[3]["message"]
    assert by_row[4]["field"] == "lon" and "不是数字" in by_row[4]["message"]
    assert by_row[5]["field"] == "lat" and "超出范围" in by_row[5]["message"]
    assert by_row[6]["field"] == "lon" and "不在本区" in by_row[6]["message"]
    assert by_row[7]["field"] == "disposition" and "推倒" in by_row[7]["message"]
    assert by_row[8]["field"] == "code" and "第 2 行重复" in by_row[8]["message"]
    assert by_row[9]["field"] == "code" and "已在台账中" in by_row[9]["message"]
    assert by_row[10]["field"] == "committed_deadline"
    assert by_row[11]["field"] == "code"
    assert "填反" in by_row[12]["message"]
    assert all(e["message"].startswith(f"第 {e['row']} 行") for e in errors)
    assert _site_count(db_session) == before


def test_missing_columns_and_unreadable_files(db_session) -> None:
    headers = [h for h in HEADERS if h != "经度"]
    rows = [[v for h, v in zip(HEADERS, r, strict=True) if h != "经度"] for r in good_rows()]
    with pytest.raises(ValidationError, match="缺少必需的列：经度"):
        import_sites(db_session, csv_bytes(rows, headers=headers), "x.csv", ACTOR)
    with pytest.raises(ValidationError, match="空"):
        import_sites(db_session, b"", "x.csv", ACTOR)
    with pytest.raises(ValidationError, match=r"\.xlsx"):
        import_sites(db_session, b"\xd0\xcf\x11\xe0", "old.xls", ACTOR)
    with pytest.raises(ValidationError, match="不支持"):
        import_sites(db_session, b"abc", "ledger.pdf", ACTOR)
    with pytest.raises(ValidationError, match="无法读取"):
        import_sites(db_session, b"not a zip", "fake.xlsx", ACTOR)
    with pytest.raises(ValidationError, match="GeoJSON"):
        import_sites(db_session, b'{"type": "Feature"}', "x.geojson", ACTOR)
    with pytest.raises(ValidationError, match="没有数据行"):
        import_sites(db_session, csv_bytes([]), "x.csv", ACTOR)


def test_geojson_non_point_geometry_is_a_row_error(db_session) -> None:
    doc = json.loads(geojson_bytes(good_rows()))
    doc["features"][1]["geometry"] = {
        "type": "LineString",
        "coordinates": [[117.2, 39.1], [117.21, 39.1]],
    }
    with pytest.raises(ImportRejected) as info:
        import_sites(db_session, json.dumps(doc).encode(), "x.geojson", ACTOR)
    assert [(e["row"], e["field"]) for e in info.value.errors] == [(2, "geometry")]
    assert info.value.errors[0]["message"].startswith("第 2 个要素")


def test_gcj02_input_is_converted(db_session) -> None:
    rows = good_rows()
    for r in rows:
        r[3], r[4] = wgs84_to_gcj02(r[3], r[4])
    import_sites(db_session, csv_bytes(rows), "amap.csv", ACTOR, crs="gcj02")
    x, y = db_session.execute(
        select(func.ST_X(Site.geom), func.ST_Y(Site.geom)).where(Site.code == "DZG-001")
    ).one()
    assert x == pytest.approx(P1[0], abs=1e-7) and y == pytest.approx(P1[1], abs=1e-7)


def test_dry_run_writes_nothing(db_session) -> None:
    before = _site_count(db_session)
    report = import_sites(db_session, csv_bytes(good_rows()), "x.csv", ACTOR, dry_run=True)
    assert report.dry_run and report.imported == 0 and report.by_street
    assert _site_count(db_session) == before


def test_header_spellings() -> None:
    assert header_field(" 经度 ") == "lon"
    assert header_field("面积(平方米)") == "area_m2"
    assert header_field("\ufeff编号") == "code"
    assert header_field("Longitude") == "lon"
    assert header_field("序号") is None


def test_api_upload(client, auth) -> None:
    client.environ_base["HTTP_AUTHORIZATION"] = "Bearer " + auth.token("区办王", "district_officer")
    bad = client.post(
        "/api/v1/sites/import",
        data={
            "file": (
                io.BytesIO(csv_bytes([[*good_rows()[0][:5], "推倒", *good_rows()[0][6:]]])),
                "bad.csv",
            )
        },
    )
    assert bad.status_code == 422
    body = bad.get_json()
    assert body["error"] == "import_rejected" and body["errors"][0]["row"] == 2
    ok = client.post(
        "/api/v1/sites/import", data={"file": (io.BytesIO(xlsx_bytes(good_rows())), "ledger.xlsx")}
    )
    assert ok.status_code == 201 and ok.get_json()["imported"] == 3
    dry = client.post(
        "/api/v1/sites/import",
        data={
            "file": (io.BytesIO(csv_bytes([["N-1", *good_rows()[0][1:]]])), "n.csv"),
            "dry_run": "true",
        },
    )
    assert dry.status_code == 200 and dry.get_json()["imported"] == 0
    missing = client.post("/api/v1/sites/import", data={})
    assert missing.status_code == 422 and missing.get_json()["field"] == "file"


def test_cli_import(app_ctx, connection, tmp_path: Path) -> None:
    from gis_app.cli import cli

    runner = CliRunner()
    bad = tmp_path / "bad.csv"
    bad.write_bytes(csv_bytes([[*good_rows()[0][:3], "x", *good_rows()[0][4:]]], "gbk"))
    result = runner.invoke(cli, ["import-sites", str(bad)], obj={"app": app_ctx})
    assert result.exit_code == 1
    assert "第 2 行" in result.output and "经度不是数字" in result.output
    assert "未写入任何数据" in result.output

    good = tmp_path / "ok.csv"
    good.write_bytes(csv_bytes(good_rows(), "gbk"))
    result = runner.invoke(cli, ["import-sites", str(good)], obj={"app": app_ctx})
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout.strip().splitlines()[-1])["imported"] == 3
    actor = connection.execute(select(Site.created_by).where(Site.code == "DZG-001")).scalar_one()
    assert actor.startswith("cli:")

    missing = runner.invoke(cli, ["import-sites", str(tmp_path / "none.csv")], obj={"app": app_ctx})
    assert missing.exit_code == 1 and "文件不存在" in missing.output
