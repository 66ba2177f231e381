"""Map layers as data and style: palette and legend, basemaps, the folium/Leaflet builders."""
