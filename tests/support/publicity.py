"""Seeds of the publicity feature for the scope tests: per street, a report of the media
centre linked to the street's site (not published: only the roles that may see it do) and a
piece of publicity work, each carrying a marker text."""

from __future__ import annotations

from sqlalchemy import text


def seed_publicity(session, street: str, tag: str, site_id: int) -> tuple[int, int]:
    """(coverage id, publicity id) of street `street`, with markers 报道{tag}摘要保密 and
    宣传{tag}内容保密."""
    street_id = session.execute(
        text("SELECT id FROM streets WHERE code = :c"), {"c": street}
    ).scalar_one()
    coverage_id = session.execute(
        text(
            "INSERT INTO coverage_records (district_code, kind, published_on, outlet, title, url,"
            " summary, published, street_ids, recorded_by, recorded_at, updated_by, updated_at)"
            " VALUES ('120102', 'exposure', '2026-06-10', '河东融媒', :title,"
            " 'https://example.cn/x', :summary, false, ARRAY[:street]::integer[], 'seed', now(),"
            " 'seed', now()) RETURNING id"
        ),
        {"title": f"报道{tag}标题", "summary": f"报道{tag}摘要保密", "street": street_id},
    ).scalar_one()
    session.execute(
        text(
            "INSERT INTO coverage_links (district_code, coverage_id, street_id, site_id)"
            " VALUES ('120102', :c, :street, :site)"
        ),
        {"c": coverage_id, "street": street_id, "site": site_id},
    )
    publicity_id = session.execute(
        text(
            "INSERT INTO publicity_records (district_code, street_id, kind, content, place,"
            " done_on, quantity, recorded_by, recorded_at, updated_by, updated_at)"
            " VALUES ('120102', :street, 'banner', :content, '社区门口', '2026-06-10', 2,"
            " 'seed', now(), 'seed', now()) RETURNING id"
        ),
        {"street": street_id, "content": f"宣传{tag}内容保密"},
    ).scalar_one()
    return coverage_id, publicity_id
