"""folium output rendered as text, never compiled again as a template.

branca's `MacroElement.render` wraps each rendered piece of a map (its script, the street
outlines' GeoJSON, a tooltip's text) in a new Jinja template and renders it once more. That
costs time (about 66 templates per map page: 40 % of its build) and, worse, evaluates any
`{{ … }}` that ledger text carries (an address, a street name) as a template on the server.
Importing `layers` applies the patch below, so every map builder of the app gets it.
"""

from __future__ import annotations

from typing import Any

import folium
from branca.element import Element, MacroElement


class RenderedText(Element):
    """Markup that is rendered already: returned as it is."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self._text = text

    def render(self, **kwargs: Any) -> str:
        return self._text


def render_macro(self: MacroElement, **kwargs: Any) -> None:
    """branca's MacroElement.render, except that the header, html and script a macro renders
    are kept as text (RenderedText) instead of `Element(text)`, which compiles each rendered
    text as a Jinja template of its own (the map's whole script, the street outlines'
    GeoJSON…) only to render it once more, unchanged. The load test found that compiling
    was 40 % of the map page's time (about 66 templates per page); the pages are the same
    byte for byte (tests/unit/test_site_map.py)."""
    figure = self.get_root()
    assert isinstance(figure, folium.Figure), (
        "You cannot render this Element if it is not in a Figure."
    )
    macros = self._template.module.__dict__
    for part in ("header", "html", "script"):
        macro = macros.get(part)
        if macro is not None:
            getattr(figure, part).add_child(RenderedText(macro(self, kwargs)), name=self.get_name())
    for element in self._children.values():
        element.render(**kwargs)


#: branca's own, kept for the test that compares both
BRANCA_MACRO_RENDER = MacroElement.render
MacroElement.render = render_macro  # type: ignore[method-assign]
