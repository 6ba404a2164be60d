"""PostgreSQL for BI tools: the public names of the modules that do the work, imported from one place.

* `pipeline.pg_cluster`: the local cluster under `$ECOM_DATA_DIR/postgres` (initdb, start, stop, its port);
* `pipeline.pg_secrets`: the roles' passwords (configured, else generated once, 0600);
* `pipeline.pg_connect`: connection strings (ECOM_BI_DSN or the local cluster), database and read-only role;
* `pipeline.pg_export`: the published DuckDB marts read for PostgreSQL (types, keys, comments, CSV);
* `pipeline.pg_publish`: the publish, a staging schema swapped in as `marts` in one transaction.
"""

from __future__ import annotations

from pipeline.pg_cluster import ADMIN_ROLE, BiError, LocalCluster, port_in_use, postgres_bin_dir
from pipeline.pg_connect import BI_DATABASE, admin_conninfo, ensure_database, local_port, reader_url
from pipeline.pg_export import Column, Mart, Snapshot, export_published, pg_type, primary_keys_in
from pipeline.pg_publish import BI_PUBLISH_STATE, BiPublishResult, drop_old_schemas, publish_postgres
from pipeline.pg_secrets import READER_ROLE, admin_password, reader_password

__all__ = [
    "ADMIN_ROLE",
    "BI_DATABASE",
    "BI_PUBLISH_STATE",
    "READER_ROLE",
    "BiError",
    "BiPublishResult",
    "Column",
    "LocalCluster",
    "Mart",
    "Snapshot",
    "admin_conninfo",
    "admin_password",
    "drop_old_schemas",
    "ensure_database",
    "export_published",
    "local_port",
    "pg_type",
    "port_in_use",
    "postgres_bin_dir",
    "primary_keys_in",
    "publish_postgres",
    "reader_password",
    "reader_url",
]
