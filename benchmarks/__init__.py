"""Benchmarks: measured on purpose, never in the test suite."""
