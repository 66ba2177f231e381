"""Ledgers written the way the streets write them: their own words for the kinds, extra
columns, title rows, merged header cells, full-width digits and spaces, dates like 2022.6.30
and 6月底; and every check on every row, so one answer names all of a file's problems."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import Workbook
from sqlalchemy import func, select

from gis_app.core.actor import Actor
from gis_app.core.errors import ImportRejected
from gis_app.features.ledger.importer import import_sites
from gis_app.features.ledger.models import Site

ACTOR = Actor("tester", "district_officer")
# points well inside 大直沽 (120102002)
P1 = (117.2381, 39.1100)


def street_workbook() -> bytes:
    """As 大直沽街道 keeps it: a title, a merged 坐标 header over 经度/纬度, an extra 序号
    column and a 填报人 column, full-width digits and spaces, the street's own kind words."""
    book = Workbook()
    sheet = book.active
    sheet.append(["大直沽街道违法建设治理台账（2022年）"])
    sheet.merge_cells("A1:J1")
    sheet.append(
        [
            "序号",
            "编号",
            "具体地址",
            "社区",
            "坐标",
            None,
            "治理方式",
            "违建类型",
            "承诺完成时限",
            "填报人",
        ]
    )
    sheet.append([None, None, None, None, "经度", "纬度", None, None, None, None])
    sheet.merge_cells("E2:F2")
    rows = [
        [
            1,
            "ＤＺＧ－００１",
            "大直沽中路１２号",
            "文华里社区",
            "１１７．２３８１",
            "３９．１１",
            "拆除",
            "彩钢房",
            "2022.6.30",
            "张三",
        ],
        [
            2,
            "DZG-002",
            "大直沽中路14号　后院",
            "文华里社区",
            P1[0] + 0.001,
            P1[1],
            "规范治理",
            "楼顶加层",
            "6月底",
            "张三",
        ],
        [
            3,
            "DZG-003",
            "大直沽中路16号",
            "东兴里社区",
            P1[0] + 0.002,
            P1[1],
            "拆除",
            "玻璃暖房",
            "2022年9月30日",
            "李四",
        ],
        [
            4,
            "DZG-004",
            "大直沽中路18号",
            "东兴里社区",
            P1[0] + 0.003,
            P1[1],
            "拆除",
            "院内私搭乱建",
            "2022/12/31",
            "李四",
        ],
    ]
    for r in rows:
        sheet.append(r)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_a_street_ledger_as_written_is_imported(db_session) -> None:
    report = import_sites(db_session, street_workbook(), "大直沽台账.xlsx", ACTOR)
    assert report.imported == 4, report.warnings
    sites = {s.code: s for s in db_session.scalars(select(Site).where(Site.code.like("DZG-00%")))}
    assert set(sites) == {"DZG-001", "DZG-002", "DZG-003", "DZG-004"}  # full-width narrowed
    first = sites["DZG-001"]
    assert (
        float(first.committed_deadline.year) == 2022
        and str(first.committed_deadline) == "2022-06-30"
    )
    assert first.address == "大直沽中路１２号"  # descriptive text kept verbatim
    assert (first.kind, first.kind_label) == ("steel_shed", "彩钢房")
    assert (sites["DZG-002"].kind, sites["DZG-002"].kind_label) == ("rooftop", "楼顶加层")
    assert str(sites["DZG-002"].committed_deadline) == "2026-06-30"  # 6月底: this year
    assert (sites["DZG-003"].kind, sites["DZG-003"].kind_label) == ("other", "玻璃暖房")
    assert (sites["DZG-004"].kind, sites["DZG-004"].kind_label) == ("courtyard", "")
    text = "\n".join(report.warnings)
    assert "“彩钢房”按“彩钢棚厦”记录（第 4 行）" in text
    assert "“玻璃暖房”无法对应到类型表，按“其他”记录（第 6 行）" in text
    assert "按 2026 年计（第 5 行）" in text
    assert "“填报人”已忽略" in text and "序号" in text


def test_the_districts_own_synonyms_apply(db_session) -> None:
    report = import_sites(
        db_session, street_workbook(), "台账.xlsx", ACTOR, synonyms={"暖房": "rooftop"}
    )
    assert report.imported == 4
    kind = db_session.scalar(select(Site.kind).where(Site.code == "DZG-003"))
    assert kind == "rooftop"
    assert not any("无法对应" in w for w in report.warnings)


def _csv(rows: list[list[object]]) -> bytes:
    header = "编号,地址,经度,纬度,治理方式,违建类型,承诺期限"
    lines = [header] + [",".join("" if v is None else str(v) for v in r) for r in rows]
    return ("\n".join(lines) + "\n").encode()


def test_seven_kinds_of_bad_rows_are_named_in_one_answer(db_session) -> None:
    import_sites(db_session, _csv([["OLD-1", "老点位", *P1, "拆除", "", ""]]), "old.csv", ACTOR)
    before = db_session.scalar(select(func.count()).select_from(Site))
    rows = [
        [
            "OK-1",
            "好地址",
            *P1,
            "拆除",
            "搭建彩钢房",
            "2022.6.30",
        ],  # row 2: sound (a word of its own)
        ["BAD-1", "", *P1, "拆除", "", ""],  # 3: no address
        ["BAD-2", "某地", "一一七", P1[1], "拆除", "", ""],  # 4: longitude not a number
        ["BAD-3", "某地", 116.40, 39.90, "拆除", "", ""],  # 5: outside the district
        ["BAD-4", "某地", *P1, "推倒", "", ""],  # 6: disposition not in the list
        ["BAD-5", "某地", *P1, "拆除", "", "明年春天"],  # 7: not a date
        ["OK-1", "某地", *P1, "拆除", "", ""],  # 8: code repeated in the file
        ["OLD-1", "某地", *P1, "拆除", "", ""],  # 9: code already in the ledger
        # 10: several at once — bad disposition, outside the district, repeated code
        ["OK-1", "某地", 116.40, 39.90, "推倒", "", ""],
    ]
    with pytest.raises(ImportRejected) as info:
        import_sites(db_session, _csv(rows), "bad.csv", ACTOR)
    errors = info.value.errors
    found = {(e["row"], e["field"]) for e in errors}
    assert {
        (3, "address"),
        (4, "lon"),
        (5, "lon"),
        (6, "disposition"),
        (7, "committed_deadline"),
        (8, "code"),
        (9, "code"),
    } <= found
    assert 2 not in {e["row"] for e in errors}  # the street's own kind word is no error
    tenth = {e["field"]: e["message"] for e in errors if e["row"] == 10}
    assert set(tenth) == {"disposition", "code", "lon"}
    assert "不在本区" in tenth["lon"] and "与第 2 行重复" in tenth["code"]
    assert any("搭建彩钢房" in w for w in info.value.details["warnings"])
    assert db_session.scalar(select(func.count()).select_from(Site)) == before


def test_cli_prints_the_errors_and_the_warnings_with_dry_run(
    app_ctx, connection, tmp_path: Path
) -> None:
    from gis_app.cli import cli

    runner = CliRunner()
    bad = tmp_path / "bad.csv"
    bad.write_bytes(
        _csv(
            [
                ["C-1", "某地", *P1, "拆除", "铁皮屋", "6月底"],
                ["C-1", "某地", 116.40, 39.90, "推倒", "", ""],
            ]
        )
    )
    result = runner.invoke(cli, ["import-sites", "--dry-run", str(bad)], obj={"app": app_ctx})
    assert result.exit_code == 1
    out = result.stderr
    assert "第 3 行：编号 C-1 与第 2 行重复" in out and "第 3 行：坐标不在本区" in out
    assert "推倒" in out
    assert "提示：违建类型“铁皮屋”按“彩钢棚厦”记录" in out and "按 2026 年计" in out
    good = tmp_path / "good.xlsx"
    good.write_bytes(street_workbook())
    checked = runner.invoke(cli, ["import-sites", "--dry-run", str(good)], obj={"app": app_ctx})
    assert checked.exit_code == 0, checked.output
    assert "提示：违建类型“玻璃暖房”无法对应到类型表" in checked.stderr
    assert "--dry-run" in checked.stderr
    report = json.loads(checked.stdout.strip().splitlines()[-1])
    assert report["dry_run"] and report["imported"] == 0 and report["rows"] == 4
    written = connection.execute(
        select(func.count()).select_from(Site).where(Site.code.like("DZG-00%"))
    )
    assert written.scalar() == 0


# ---------------------------------------------------------------- the import page


def _upload(client, data: bytes, name: str):
    from tests.support.accounts import csrf_of

    token = csrf_of(client.get("/ledger/import").text)
    return client.post(
        "/ledger/import",
        data={"csrf_token": token, "crs": "wgs84", "file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def test_the_import_page_checks_previews_and_imports(office, connection) -> None:
    from tests.support.accounts import csrf_of

    checked = _upload(office, street_workbook(), "大直沽台账.xlsx")
    assert checked.status_code == 200, checked.text[:2000]
    page = checked.text
    assert (
        'id="columns"' in page and "具体地址" in page and "未识别（忽略）" in page
    )  # 序号, 填报人
    assert 'id="preview"' in page and "DZG-002" in page
    assert "“玻璃暖房”无法对应到类型表" in page
    assert connection.execute(select(func.count()).select_from(Site)).scalar() == 0
    action = page.split('action="')[-1].split('"')[0]
    assert action.startswith("/ledger/import/")
    done = office.post(action, data={"csrf_token": csrf_of(page)})
    assert done.status_code == 200 and "已导入 4 个点位" in done.text
    assert connection.execute(select(func.count()).select_from(Site)).scalar() == 4
    again = office.post(action, data={"csrf_token": csrf_of(page)})
    assert again.status_code == 404  # the stash is gone once imported


def test_a_refused_file_lists_every_error_and_comes_back_marked(office, connection) -> None:
    from openpyxl import load_workbook

    rows = [
        ["R-1", "好地址", *P1, "拆除", "", "2022.6.30"],
        ["R-2", "", 116.40, 39.90, "推倒", "", ""],  # address, point, disposition
        ["R-1", "某地", *P1, "拆除", "", "明年"],  # repeated code, bad date
        ["R-3", '=HYPERLINK("http://x")', 116.40, 39.90, "拆除", "", ""],  # echoed as text
    ]
    refused = _upload(office, _csv(rows), "bad.csv")
    assert refused.status_code == 422
    page = refused.text
    for row, field in (
        (3, "address"),
        (3, "lon"),
        (3, "disposition"),
        (4, "code"),
        (4, "committed_deadline"),
    ):
        assert f'data-row="{row}" data-field="{field}"' in page, (row, field)
    assert 'id="confirm"' not in page
    link = page.split('id="annotated" href="')[1].split('"')[0]
    marked = office.get(link)
    assert marked.status_code == 200
    sheet = load_workbook(io.BytesIO(marked.data)).active
    header = [c.value for c in sheet[1]]
    assert header[0] == "行号" and header[-1] == "错误说明"
    cells = {
        (r[0].value, header[i]): c for r in sheet.iter_rows(min_row=2) for i, c in enumerate(r)
    }
    bad = cells[(3, "地址")]
    assert bad.fill.fgColor.rgb.endswith("FFC7CE") and "缺少地址" in bad.comment.text
    assert "不在本区" in cells[(3, "经度")].comment.text
    assert "重复" in cells[(4, "编号")].comment.text
    assert cells[(2, "地址")].comment is None and not cells[(2, "错误说明")].value
    assert "推倒" in cells[(3, "错误说明")].value
    echoed = cells[(5, "地址")]
    assert echoed.data_type == "s" and echoed.value.startswith("=HYPERLINK")
    assert connection.execute(select(func.count()).select_from(Site)).scalar() == 0


def test_the_import_page_is_for_the_office_and_the_streets(client, auth) -> None:
    auth.login(client, "民政", "bureau_civil")
    assert client.get("/ledger/import").status_code == 403
    auth.login(client, "检查员", "inspector", "120102002")
    assert client.get("/ledger/import").status_code == 403
    auth.login(client, "街道办", "street_officer", "120102002")
    assert client.get("/ledger/import").status_code == 200


def test_the_office_edits_the_kind_synonyms_on_a_page(office, client, auth, db_session) -> None:
    from tests.support.accounts import csrf_of

    page = office.get("/ledger/kind-synonyms")
    assert page.status_code == 200 and "彩钢 → 彩钢棚厦" in page.text
    token = csrf_of(page.text)
    added = office.post(
        "/ledger/kind-synonyms", data={"csrf_token": token, "word": "暖房", "kind": "rooftop"}
    )
    assert added.status_code == 302
    listed = office.get("/ledger/kind-synonyms").text
    assert 'data-word="暖房"' in listed
    twice = office.post(
        "/ledger/kind-synonyms", data={"csrf_token": token, "word": "暖房", "kind": "other"}
    )
    assert twice.status_code == 409 and 'data-field="word"' in twice.text
    bad = office.post(
        "/ledger/kind-synonyms", data={"csrf_token": token, "word": "棚", "kind": "玻璃房"}
    )
    assert bad.status_code == 422 and 'data-field="kind"' in bad.text
    # the import uses the office's word: 玻璃暖房 is now a rooftop construction, no warning
    report = import_sites(db_session, street_workbook(), "台账.xlsx", ACTOR)
    kind, label = db_session.execute(
        select(Site.kind, Site.kind_label).where(Site.code == "DZG-003")
    ).one()
    assert (kind, label) == ("rooftop", "玻璃暖房")
    assert not any("无法对应" in w for w in report.warnings)
    synonym_id = listed.split("/ledger/kind-synonyms/")[1].split("/")[0]
    deleted = office.post(f"/ledger/kind-synonyms/{synonym_id}/delete", data={"csrf_token": token})
    assert deleted.status_code == 302
    assert 'data-word="暖房"' not in office.get("/ledger/kind-synonyms").text
    # the streets do not edit them
    auth.login(client, "街道办", "street_officer", "120102002")
    assert client.get("/ledger/kind-synonyms").status_code == 403


def test_a_column_not_recognised_is_mapped_by_hand_and_remembered(client, auth, connection) -> None:
    from tests.support.accounts import csrf_of

    auth.login(client, "大直沽街道办", "street_officer", "120102002")
    lines = ["编号,地址,东经,北纬,治理方式", f"M-1,大直沽中路1号,{P1[0]},{P1[1]},拆除"]
    data = ("\n".join(lines) + "\n").encode()
    first = _upload(client, data, "ledger.csv")
    assert first.status_code == 422 and "缺少必需的列：经度、纬度" in first.text
    page = first.text
    assert 'name="header" value="东经"' in page and 'name="header" value="北纬"' in page
    action = page.split('id="mapping"')[0].rsplit('action="', 1)[1].split('"')[0]
    assert action.endswith("/mapping")
    mapped = client.post(
        action,
        data={"csrf_token": csrf_of(page), "header": ["东经", "北纬"], "field": ["lon", "lat"]},
    )
    assert mapped.status_code == 200, mapped.text[:3000]
    assert 'id="confirm"' in mapped.text and "M-1" in mapped.text
    commit = mapped.text.split('id="confirm"')[0].rsplit('action="', 1)[1].split('"')[0]
    done = client.post(commit, data={"csrf_token": csrf_of(mapped.text)})
    assert "已导入 1 个点位" in done.text
    # the street's next ledger with the same headers is read with the mapping remembered
    again = ["编号,地址,东经,北纬,治理方式", f"M-2,大直沽中路3号,{P1[0]},{P1[1]},拆除"]
    second = _upload(client, ("\n".join(again) + "\n").encode(), "next.csv")
    assert second.status_code == 200 and 'id="confirm"' in second.text
    # another street's office does not get it
    auth.login(client, "中山门街道办", "street_officer", "120102003")
    other = _upload(client, ("\n".join(again) + "\n").encode(), "next.csv")
    assert other.status_code == 422 and "缺少必需的列" in other.text
    bad = client.post(
        other.text.split('id="mapping"')[0].rsplit('action="', 1)[1].split('"')[0],
        data={"csrf_token": csrf_of(other.text), "header": ["东经"], "field": ["password"]},
    )
    assert bad.status_code == 422 and 'data-field="mapping"' in bad.text
