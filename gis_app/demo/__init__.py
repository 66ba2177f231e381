"""Demo district builders: approximate street polygons and generated sites."""
