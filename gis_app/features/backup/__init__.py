"""Backup and restore: the database and the photo store in one checked archive."""
