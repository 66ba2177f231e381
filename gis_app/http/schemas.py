"""Declared request and response schemas of the JSON API.

A view declares what it takes and what it answers:

    @bp.post("/sites")
    @allow(*SITE_STAFF)
    @operation("登记点位", "createSite", body=SiteCreate, replies=[Reply(201, Feature, GEOJSON)])
    def create_site(body: SiteCreate) -> Response: ...

Before the view runs, the path's query string, JSON body or multipart form is validated
against the declared pydantic models and handed to the view (`query=`, `body=`, `form=`); a
refusal is the app's usual 422 (or 400 for an unreadable body) naming the field, in Chinese.
`gis_app.http.openapi` assembles the OpenAPI document from the same declarations.

Models may validate with the app's own parsers (a `BeforeValidator` that raises
`ValidationError`): pydantic lets those pass through untouched, with their own message.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, TypeVar

import pydantic
from flask import request
from pydantic import BaseModel, WithJsonSchema
from werkzeug.datastructures import FileStorage

from gis_app.core.schemas import M, from_args, is_list, validate
from gis_app.http.parsing import json_body

F = TypeVar("F", bound=Callable[..., Any])
#: where a view's declaration is kept
ATTRIBUTE = "api_operation"
JSON = "application/json"
GEOJSON = "application/geo+json"


#: an uploaded file of a multipart form (a Werkzeug FileStorage in the view)
Upload = Annotated[
    FileStorage,
    pydantic.PlainValidator(lambda v: _upload(v)),
    WithJsonSchema({"type": "string", "format": "binary"}),
]


def _upload(value: Any) -> FileStorage:
    if not isinstance(value, FileStorage) or not value.filename:
        raise ValueError("请选择要上传的文件")
    return value


@dataclass(frozen=True)
class Reply:
    """A declared answer: status, what it is, its media type and body schema (a model, a
    JSON Schema dict, or None for a body of another kind such as a file)."""

    status: int
    description: str = "OK"
    schema: type[BaseModel] | Mapping[str, Any] | None = None
    media: str = JSON


@dataclass(frozen=True)
class Operation:
    """What a view declared (read by the OpenAPI assembly)."""

    summary: str
    operation_id: str
    tags: tuple[str, ...] = ()
    query: type[BaseModel] | None = None
    body: type[BaseModel] | None = None
    body_required: bool = True
    body_media: str = JSON
    form: type[BaseModel] | None = None
    replies: tuple[Reply, ...] = (Reply(200),)
    errors: tuple[int, ...] = ()
    path: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    headers: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    description: str = ""


def operation(
    summary: str,
    operation_id: str,
    *,
    tags: Iterable[str] = (),
    query: type[BaseModel] | None = None,
    body: type[BaseModel] | None = None,
    body_required: bool = True,
    body_media: str = JSON,
    form: type[BaseModel] | None = None,
    replies: Sequence[Reply] = (Reply(200),),
    errors: Iterable[int] = (),
    path: Mapping[str, Mapping[str, Any]] | None = None,
    headers: Mapping[str, Mapping[str, Any]] | None = None,
    description: str = "",
) -> Callable[[F], F]:
    """Declare a view's inputs and answers; validate the inputs before the view runs."""
    declared = Operation(
        summary=summary,
        operation_id=operation_id,
        tags=tuple(tags),
        query=query,
        body=body,
        body_required=body_required,
        body_media=body_media,
        form=form,
        replies=tuple(replies),
        errors=tuple(errors),
        path=dict(path or {}),
        headers=dict(headers or {}),
        description=description,
    )

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if query is not None:
                kwargs["query"] = validate_query(query)
            if body is not None:
                if body_required or request.data:
                    kwargs["body"] = validate(body, json_body())
                else:
                    kwargs["body"] = None  # an optional body left out
            if form is not None:
                kwargs["form"] = validate_form(form)
            return view(*args, **kwargs)

        setattr(wrapper, ATTRIBUTE, declared)
        return wrapper  # type: ignore[return-value]

    return decorate


def operation_of(view: Callable[..., Any] | None) -> Operation | None:
    return getattr(view, ATTRIBUTE, None)


# ---------------------------------------------------------------- validation


def validate_query(model: type[M], args: Any = None) -> M:
    """The query string (or `args`) as a `model` (see `gis_app.core.schemas.from_args`)."""
    return from_args(model, request.args if args is None else args)


def validate_form(model: type[M]) -> M:
    """A multipart or urlencoded form (fields and files) as a `model`."""
    data: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        key = info.alias or name
        if key in request.files:
            files = request.files.getlist(key)
            data[key] = files if is_list(info.annotation) else files[0]
        elif key in request.form:
            values = request.form.getlist(key)
            data[key] = values if is_list(info.annotation) else values[0]
    return validate(model, data)
