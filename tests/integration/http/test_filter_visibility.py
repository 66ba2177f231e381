"""A filter on a field a role may not see is refused everywhere (issue 16, point 2).

The hardship flag (困难户) is never shown to media, agencies or the bureaus; a filter on it would
tell them exactly which sites carry it. The walk: every filter parameter of the site list (and
the OGC queryables) × every role × every reader of sites (list, counts, every export format,
the streets export, OGC items, vector tiles). The fields a role may see are read from what it
is shown (a site's properties from GET /api/v1/sites/<id>); a probe on a field outside them
must be refused (403/422) — a 200 is a leak — and a probe on a visible field must answer as the
unfiltered request does.
"""

from __future__ import annotations

import pytest

from gis_app.core import codes
from gis_app.features.exchange.export import FORMATS
from tests.support.sites import site_payload
from tests.support.workflow import DZG

pytestmark = pytest.mark.slow

ROLES = [
    ("district_officer", None),
    ("street_officer", DZG),
    ("inspector", DZG),
    ("bureau_civil", None),
    ("bureau_housing", None),
    ("bureau_police", None),
    ("bureau_media", None),
    ("agency", None),
]

# parameter=value -> the site field it reads
SITE_FILTERS: list[tuple[str, str]] = [
    ("district=120102", "street_code"),
    (f"street={DZG}", "street_code"),
    ("status=registered", "status"),
    ("disposition=demolish", "disposition"),
    ("kind=courtyard", "kind"),
    ("source=manual", "source"),
    ("overdue=false", "overdue"),
    ("bbox=117.2,39.0,117.3,39.2", "geometry"),
    ("near=117.2381,39.11,500", "geometry"),
    ("q=VIS", "code"),
    ("community=文华里社区", "community"),
    ("deadline_from=2026-01-01", "current_deadline"),
    ("deadline_to=2027-01-01", "current_deadline"),
    *[(f"flag={flag}", f"flag_{flag}") for flag in codes.FLAGS],
    *[(f"flag={codes.FLAGS[flag]}", f"flag_{flag}") for flag in codes.FLAGS],
]
OGC_FILTERS: list[tuple[str, str]] = [
    *[(p, f) for p, f in SITE_FILTERS if not p.startswith(("district=", "near=", "bbox="))],
    ("code=VIS-0001", "code"),
    (f"street_code={DZG}", "street_code"),
    *[(f"flag_{flag}={v}", f"flag_{flag}") for flag in codes.FLAGS for v in ("true", "false")],
]
PERSONAL = {"flag_hardship", "person_name", "person_contact", "note"}


def _readers(params: str, field: str) -> list[str]:
    """The URLs that read sites with the filter `params` (every format where it matters)."""
    urls = [
        f"/api/v1/sites?{params}",
        f"/api/v1/sites/counts?{params}",
        f"/api/v1/exports/streets.geojson?{params}",
        f"/tiles/sites/14/13575/6221.mvt?{params}",
    ]
    fmts = list(FORMATS) if field in PERSONAL else ["geojson", "csv"]
    urls += [f"/api/v1/exports/sites.{fmt}?{params}" for fmt in fmts]
    return urls


def _visible(client, headers, site_id: int) -> set[str]:
    """The site fields a role is shown (nothing for a role that reads no site)."""
    response = client.get(f"/api/v1/sites/{site_id}", headers=headers)
    if response.status_code != 200:
        return set()
    return set(response.get_json()["properties"]) | {"geometry"}


def test_every_filter_on_a_field_a_role_cannot_see_is_refused(client, office, auth) -> None:
    created = office.post(
        "/api/v1/sites",
        json=site_payload(code="VIS-0001", flag_hardship=True, flag_central_inspection=True),
        headers={"X-CSRF-Token": _csrf(office)},
    )
    assert created.status_code == 201, created.text
    site_id = created.get_json()["id"]

    probes = leaks = refused = 0
    wrong: list[str] = []
    for role, street in ROLES:
        headers = auth.headers(f"vis.{role}", role, street)
        visible = _visible(client, headers, site_id)
        cases = [(url, f) for p, f in SITE_FILTERS for url in _readers(p, f)]
        cases += [(f"/ogc/collections/sites/items?{p}", f) for p, f in OGC_FILTERS]
        baseline: dict[str, int] = {}
        for url, field in cases:
            bare = url.split("?")[0]
            if bare not in baseline:
                baseline[bare] = client.get(bare, headers=headers).status_code
            status = client.get(url, headers=headers).status_code
            probes += 1
            if field not in visible:
                if status in (403, 422):
                    refused += 1
                elif status < 400:
                    leaks += 1
                    wrong.append(f"{role} {url}: {status} (field {field} not shown to it)")
                elif baseline[bare] != status:
                    wrong.append(f"{role} {url}: {status}")
            elif status != baseline[bare]:
                wrong.append(f"{role} {url}: {status}, unfiltered {baseline[bare]}")
    print(f"filter × role probes: {probes}, refused {refused}, leaks {leaks}")
    assert not wrong, "\n".join(wrong[:40])
    assert leaks == 0


def _csrf(client) -> str:
    from tests.support.accounts import csrf

    return csrf(client)


def test_refusal_names_the_field(client, auth) -> None:
    headers = auth.headers("vis.agency2", "agency")
    for url in (
        "/api/v1/sites?flag=hardship",
        "/api/v1/sites/counts?flag=困难户",
        "/api/v1/exports/sites.xlsx?flag=hardship",
        "/ogc/collections/sites/items?flag_hardship=false",
        "/ogc/collections/sites/items?flag=hardship",
    ):
        response = client.get(url, headers=headers)
        assert response.status_code == 403, (url, response.text)
        assert "flag_hardship" in response.text and "困难户" in response.text, response.text


def test_the_media_map_offers_no_hardship_checkbox_and_refuses_the_filter(client, auth) -> None:
    auth.login(client, "vis.media", "bureau_media")
    page = client.get("/map")
    assert page.status_code == 200
    assert 'value="hardship"' not in page.text
    assert 'value="renovation"' in page.text
    refused = client.get("/map?flag=hardship")
    assert refused.status_code == 403
    assert "困难户" in refused.text
    exports = client.get("/exports")
    assert 'value="hardship"' not in exports.text
    assert client.get("/exports?flag=hardship").status_code == 403


def test_the_office_map_still_offers_it(office) -> None:
    page = office.get("/map")
    assert 'value="hardship"' in page.text
    assert office.get("/map?flag=hardship").status_code == 200


def test_cli_acting_for_an_agency_refuses_the_filter(app_ctx, auth, tmp_path) -> None:
    from click.testing import CliRunner

    from gis_app.cli import cli

    auth.user("vis.cli.agency", "agency")
    runner = CliRunner()
    out = tmp_path / "x.geojson"
    args = ["export", "--as-user", "vis.cli.agency", "--out", str(out)]
    refused = runner.invoke(cli, [*args, "--flag", "hardship"], obj={"app": app_ctx})
    assert refused.exit_code == 1, refused.output
    assert "flag_hardship" in refused.stderr
    assert not out.exists()
    allowed = runner.invoke(cli, [*args, "--flag", "renovation"], obj={"app": app_ctx})
    assert allowed.exit_code == 0, allowed.output
    assert out.exists()
