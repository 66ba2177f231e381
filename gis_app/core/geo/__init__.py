"""Coordinate handling: validation of user input and the GCJ-02 conversion."""
