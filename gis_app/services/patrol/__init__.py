"""Patrol planning: areas, priorities, routes, findings, coverage."""
