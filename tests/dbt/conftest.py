"""Fixtures for the dbt suite: the shared `small_build` (a generated and built `small` window) lives in
tests/conftest.py, so that the product truth tests (tests/products/) share the same build."""
