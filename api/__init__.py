"""The HTTP API other services read: hot products, "bought together" lists, the latest KPIs, customer scores.

FastAPI + uvicorn (`ecom api`). It reads Redis (`ecom redis`, or ECOM_REDIS_URL) and falls back to the published
DuckDB file when Redis is not running or holds no version yet; the `X-Served-From` header says which served a
response. It reads only through `pipeline.read` and `pipeline.settings`.
"""
