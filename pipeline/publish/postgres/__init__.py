"""PostgreSQL for BI tools.

* `cluster`: the local cluster under `$ECOM_DATA_DIR/postgres` (initdb, start, stop, its port);
* `passwords`: the roles' passwords (configured, else generated once, 0600);
* `connect`: connection strings (ECOM_BI_DSN or the local cluster), database and read-only role;
* `export`: the published DuckDB marts read for PostgreSQL (types, keys, comments, CSV);
* `publish`: the publish, a staging schema swapped in as `marts` in one transaction;
* `serve`: `ecom serve`, a local server unless ECOM_BI_DSN names one, then a publish.
"""
