"""The to-do list on the pages (/todo, the home page's block, the count in the navigation)
and in the API."""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Flask, Response, g, jsonify, render_template, url_for
from sqlalchemy.exc import SQLAlchemyError

from gis_app.features.todo import service as todo
from gis_app.features.todo.schemas import TodoList
from gis_app.http.access import ANY_USER, allow
from gis_app.http.actor import page_actor
from gis_app.http.database import session
from gis_app.http.schemas import Reply, operation

bp = Blueprint("todo", __name__, template_folder="templates")
log = logging.getLogger(__name__)


def my_items() -> list[dict[str, Any]]:
    """The logged-in user's items, once per request (the navigation and the page share them)."""
    if "todo_items" not in g:
        actor = page_actor()
        items: list[dict[str, Any]] = []
        if actor is not None:
            try:  # in a savepoint: an error page's navigation never breaks the request
                with session().begin_nested():
                    items = todo.items_for(session(), actor)
            except SQLAlchemyError:
                log.warning("the to-do list could not be read", exc_info=True)
        for item in items:
            item["url"] = url_for(item["endpoint"], **item["args"])
        g.todo_items = items
    return g.todo_items


def init_app(app: Flask) -> None:
    @app.context_processor
    def todo_helpers() -> dict[str, Any]:
        return {"todo_items": my_items, "todo_grouped": lambda: todo.grouped(my_items())}


@bp.get("/todo")
@allow(ANY_USER)
def todo_page() -> str:
    return render_template("todo/page.html")


@bp.get("/api/v1/todo")
@allow(ANY_USER)
@operation(
    "我的待办（按身份）",
    "myTodo",
    tags=("todo",),
    replies=[Reply(200, "待办事项，每项带链接", TodoList)],
)
def todo_api() -> Response:
    items = [{k: v for k, v in i.items() if k != "endpoint"} for i in my_items()]
    return jsonify({"count": len(items), "items": items})
