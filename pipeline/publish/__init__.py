"""Publishing a passing build: the DuckDB file analysts read, and PostgreSQL for BI tools."""
