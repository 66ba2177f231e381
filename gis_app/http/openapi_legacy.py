"""TRANSITIONAL: the hand-written OpenAPI parts of the features not yet declared with
`gis_app.http.schemas.operation`. `gis_app.http.openapi.api_document` adds their paths where
no declared operation gives them. Goes when the last feature is declared."""

from __future__ import annotations

from typing import Any


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


ERROR_TEXT = {
    400: "请求无法解析（不是 JSON 对象、表单无法读取）",
    404: "不存在",
    409: "冲突（版本过期、编号重复）",
    413: "请求体超过上限（message 写明上限）",
    422: "字段无效（field 指出哪个字段）",
    503: "数据库暂时不可用，请稍后重试（Retry-After）",
}


def _error_responses(*statuses: int) -> dict[str, Any]:
    text = ERROR_TEXT
    return {
        str(s): {"description": text[s], "content": {"application/json": {"schema": _ref("Error")}}}
        for s in statuses
    }


def operation(summary: str, op_id: str, **extra: Any) -> dict[str, Any]:
    """An operation of a feature's part of the document: 200 unless `responses` says
    otherwise, and the refusals every feature endpoint can give (403, 404, 422)."""
    responses = extra.pop("responses", {"200": {"description": "OK"}})
    for code, text in (("403", "无权限"), ("404", "不存在"), ("422", "字段无效")):
        responses.setdefault(code, {"description": text})
    return {"summary": summary, "operationId": op_id, "responses": responses, **extra}


def complete_error_responses(doc: dict[str, Any]) -> None:
    """The errors any operation can answer, declared on every operation (found by fuzzing):
    a request body may be unreadable (400) or too large (413); an id in the path may name
    nothing (404); a parameter may be invalid (422); the database may be down (503)."""
    for item in doc["paths"].values():
        for method, op in item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            statuses = [503]
            params = op.get("parameters", []) + item.get("parameters", [])
            if op.get("requestBody"):
                statuses += [400, 413, 422]
            if any(p.get("in") == "path" for p in params):
                statuses.append(404)
            if params:
                statuses.append(422)
            for status, response in _error_responses(*statuses).items():
                op["responses"].setdefault(status, response)


def _feature_paths() -> dict[str, Any]:
    """Paths that feature areas describe in their own modules."""
    from gis_app.features.patrol.web import openapi_paths as patrol_paths
    from gis_app.features.sampling.web import openapi_paths as sampling_paths
    from gis_app.features.workflow.api import openapi_paths as workflow_paths

    return {**workflow_paths(), **sampling_paths(), **patrol_paths()}


def legacy_paths() -> dict[str, Any]:
    """Paths that feature areas still describe by hand in their own modules."""
    from gis_app.features.patrol.web import openapi_paths as patrol_paths
    from gis_app.features.sampling.web import openapi_paths as sampling_paths
    from gis_app.features.workflow.api import openapi_paths as workflow_paths

    doc: dict[str, Any] = {"paths": {**workflow_paths(), **sampling_paths(), **patrol_paths()}}
    complete_error_responses(doc)
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for item in doc["paths"].values():
        for op in item.values():
            op["responses"].setdefault("401", {"description": "未登录或令牌无效", "content": error})
            op["responses"].setdefault("403", {"description": "角色无权访问", "content": error})
    return doc["paths"]
