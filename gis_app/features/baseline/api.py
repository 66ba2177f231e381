"""The baseline in the JSON API: the streets' lists, their review, the freeze."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from flask import Blueprint, Response, current_app, jsonify
from pydantic import WithJsonSchema

from gis_app.core import clock
from gis_app.core.schemas import CheckedBody
from gis_app.features.baseline import service as baseline
from gis_app.features.campaign.service import baseline_due, campaign_end, effective_plan
from gis_app.features.ledger.permissions import require_site_reader
from gis_app.http.access import DISTRICT, SITE_STAFF, allow
from gis_app.http.actor import current_actor
from gis_app.http.database import session
from gis_app.http.schemas import Reply, operation

bp = Blueprint("baseline_api", __name__, url_prefix="/api/v1")
TAGS = ("baseline",)
STREET_CODE = {"schema": {"type": "string", "maxLength": 12}, "description": "街道代码"}


class ListReview(CheckedBody):
    """The office's review of a street's list: confirm, or return with comments."""

    absent: ClassVar[dict[str, Any]] = {"decision": ""}

    decision: Annotated[
        Any,
        WithJsonSchema(
            {"type": "string", "enum": ["confirm", "return"], "description": "确认／退回"}
        ),
    ]
    comment: Annotated[
        Any, WithJsonSchema({"type": "string", "maxLength": 1000, "description": "审核意见"})
    ] = ""


def _due() -> Any:
    plan = effective_plan(session(), current_app.extensions["campaign"])
    return baseline_due(plan, clock.today())


def _list(record: Any) -> dict[str, Any]:
    return {
        "id": record.id,
        "status": record.status,
        "status_label": baseline.STATUSES[record.status],
        "sites": len(record.site_ids),
        "submitted_at": record.submitted_at.isoformat(),
        "submitted_by": record.submitted_by,
        "reviewed_by": record.reviewed_by,
        "review_comment": record.review_comment,
    }


@bp.get("/baseline")
@allow(*SITE_STAFF)
@operation("基数台帐：各街道点位清单的报送、审核与冻结", "baseline", tags=TAGS)
def get_baseline() -> Response:
    require_site_reader(current_actor())
    return jsonify(baseline.overview(session(), _due()))


@bp.post("/baseline/streets/<code>/submit")
@allow(*SITE_STAFF)
@operation(
    "报送本街道点位清单（街道）",
    "submitBaselineList",
    tags=TAGS,
    path={"code": STREET_CODE},
    errors=[404, 409],
    replies=[Reply(201, "已报送，待区办审核")],
)
def post_submit(code: str) -> Response:
    record = baseline.submit_list(session(), code, current_actor())
    response = jsonify(_list(record))
    response.status_code = 201
    return response


@bp.post("/baseline/streets/<code>/review")
@allow(*SITE_STAFF)
@operation(
    "审核街道点位清单（区办：确认，或退回并写明意见）",
    "reviewBaselineList",
    tags=TAGS,
    path={"code": STREET_CODE},
    body=ListReview,
    errors=[404, 409],
)
def post_review(code: str, body: ListReview) -> Response:
    record = baseline.review_list(session(), code, current_actor(), body.decision, body.comment)
    return jsonify(_list(record))


@bp.post("/baseline/freeze")
@allow(*DISTRICT)
@operation(
    "冻结全区基数台帐（全部街道清单确认后）",
    "freezeBaseline",
    tags=TAGS,
    errors=[409],
)
def post_freeze() -> Response:
    record = baseline.freeze(session(), current_actor(), current_app.config["DISTRICT_CODE"])
    return jsonify(
        {
            "frozen_at": record.frozen_at.isoformat(),
            "frozen_by": record.frozen_by,
            "baseline_sites": record.site_count,
        }
    )


class TargetsBody(CheckedBody):
    """Stage targets the office sets: per street, a date, a scope and a count."""

    absent: ClassVar[dict[str, Any]] = {"targets": None}

    targets: Annotated[
        Any,
        WithJsonSchema(
            {
                "type": "array",
                "maxItems": baseline.MAX_TARGETS,
                "items": {
                    "type": "object",
                    "properties": {
                        "street": {"type": "string", "description": "街道代码"},
                        "due": {"type": "string", "format": "date"},
                        "scope": {"type": "string", "enum": list(baseline.SCOPES)},
                        "target": {"type": "integer", "minimum": 0},
                    },
                },
                "description": "阶段工作目标",
            }
        ),
    ]


def _phase_ends() -> tuple[Any, Any]:
    plan = effective_plan(session(), current_app.extensions["campaign"])
    today = clock.today()
    implementation = next((p for p in plan.phases if p.key == "implementation"), None)
    end = campaign_end(plan, today)
    return (plan.day(implementation.end, today) if implementation else None), end


@bp.get("/targets")
@allow(*SITE_STAFF)
@operation("阶段工作目标：建议值（按基数与专项行动阶段）与各街道进度", "stageTargets", tags=TAGS)
def get_targets() -> Response:
    require_site_reader(current_actor())
    progress = baseline.target_progress(session(), clock.today())
    codes = baseline.street_codes(session())
    return jsonify(
        {
            "proposed": baseline.propose_targets(session(), *_phase_ends()),
            "progress": {codes[sid]: p for sid, p in progress.items()},
        }
    )


@bp.post("/targets")
@allow(*DISTRICT)
@operation("设定阶段工作目标（区办）", "setStageTargets", tags=TAGS, body=TargetsBody)
def post_targets(body: TargetsBody) -> Response:
    records = baseline.set_targets(session(), current_actor(), body.targets)
    return jsonify({"set": len(records)})
