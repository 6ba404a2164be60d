"""Redis for the HTTP API: hot products, "bought together" lists, the latest KPIs and customer scores.

* `server`: the local server under `$ECOM_DATA_DIR/redis` (Debian's `redis-server`, loopback, a generated
  password, no persistence), started and stopped by `ecom redis`;
* `publish`: the published marts loaded as a new version, readers switched to it atomically, old versions
  removed (the key layout and the readers' Lua script live in `pipeline/read.py`, which the API reads through).
"""
