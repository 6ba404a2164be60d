"""Predictive and statistical models: pure functions over data frames (features in, predictions out).

Imports nothing else of the project (tests/test_layout.py): the pipeline reads the lake and the warehouse, calls
these functions and writes what they return; dbt's Python models import them to score.
"""
