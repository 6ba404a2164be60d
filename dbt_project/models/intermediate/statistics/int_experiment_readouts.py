"""The readout of every experiment on both metrics (predict/experiments.py); dm_experiment_results types it."""


def model(dbt, session):
    dbt.config(materialized="table")
    from predict.experiments import readout

    units = dbt.ref("int_experiment_units").df()
    orders = dbt.ref("int_experiment_orders").df()
    experiments = dbt.ref("experiments").df()
    return readout(units, experiments, orders)
