"""The outline map under the spot-check and patrol maps: street names go in as text."""

from layers.outline_map import outline_map
from layers.patrol_map import base_map

HOSTILE = '<img src=x onerror="alert(1)">'
STREETS = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "properties": {"name": HOSTILE, "code": "120102999"},
            "geometry": {
                "type": "Polygon",
                "coordinates": [[[117.2, 39.1], [117.21, 39.1], [117.21, 39.11], [117.2, 39.1]]],
            },
        }
    ],
}


def test_street_names_are_escaped_in_the_outline_and_patrol_maps() -> None:
    for fmap in (outline_map(STREETS, "/l.js", "/l.css"), base_map(STREETS, "/l.js", "/l.css")):
        page = fmap.get_root().render()
        assert "lt;img src=x" in page  # escaped (the JSON writes & as \u0026)
        assert HOSTILE not in page and "<img src=x" not in page
        assert "/l.js" in page and "geo_json_" in page


def test_no_streets_gives_an_empty_map() -> None:
    page = outline_map({"features": []}, "/l.js", "/l.css").get_root().render()
    assert "geo_json_" not in page and "/l.js" in page


def test_template_syntax_in_ledger_text_is_not_evaluated() -> None:
    """branca compiled every rendered piece as a Jinja template again: a street name (or an
    address in a tooltip) holding `{{ … }}` would have been evaluated on the server."""
    street = {**STREETS["features"][0], "properties": {"name": "{{7*7}}"}}
    streets = {**STREETS, "features": [street]}
    page = outline_map(streets, "/l.js", "/l.css").get_root().render()
    assert '"name": "{{7*7}}"' in page and '"name": "49"' not in page


def test_outline_and_patrol_maps_show_a_metric_scale_only() -> None:
    for fmap in (outline_map(STREETS, "/l.js", "/l.css"), base_map(STREETS, "/l.js", "/l.css")):
        page = fmap.get_root().render()
        assert "L.control.scale({imperial: false" in page
        assert page.count("L.control.scale(") == 1  # not folium's own (miles and feet too)
