"""The pipeline: the `ecom` CLI, dbt invocation, write-audit-publish and status."""

__version__ = "0.1.0"
