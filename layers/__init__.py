"""Map layers as data and style: palette and legend, basemaps, the folium/Leaflet builders."""

from layers import folium_text as _folium_text  # noqa: F401  (every map renders text as text)
