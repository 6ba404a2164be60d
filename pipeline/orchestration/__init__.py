"""Airflow's side of the pipeline: the only package of ours that imports Airflow (the DAG files in dags/ wire
these tasks; the work itself lives in the other packages, shared with the `ecom` CLI)."""
