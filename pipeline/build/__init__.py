"""Building the marts: the one dbt runner (for the CLI and Airflow alike), its results, the build lock, build.json
and the Spark engine."""
