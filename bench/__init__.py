"""Benchmarks at district and city scale, run on demand (never in the test suite)."""
