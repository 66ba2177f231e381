"""Streets (街道): the district and its street polygons, imported from boundary files, and the
point-in-street rule every site's street is derived by."""
