"""Benchmarks: each prints its tables; run them from the repo root as `python -m bench.<name>`."""
