"""Order value of each RFM segment and each entry channel against the largest one (predict/experiments.py);
dm_segment_comparisons types it."""


def model(dbt, session):
    dbt.config(materialized="table")
    import pandas as pd

    from predict.experiments import segment_comparisons

    # Joined in DuckDB, so that only the three columns the comparisons read reach pandas: the sessions table
    # holds every session of the history, most of them without an order.
    orders = (
        dbt.ref("int_orders_enriched")
        .set_alias("orders")
        .join(
            dbt.ref("int_events_sessionized").set_alias("sessions"),
            "orders.session_id = sessions.session_id",
            "left",
        )
        .join(dbt.ref("dm_rfm_segments").set_alias("segments"), "orders.user_id = segments.user_id", "left")
        .project("orders.order_total, sessions.entry_channel, segments.segment_name")
        .df()
    )
    orders = orders.assign(order_value=orders["order_total"].astype(float))
    return pd.concat(
        [
            segment_comparisons(orders.dropna(subset=["segment_name"]), "segment_name").assign(
                dimension="rfm_segment"
            ),
            segment_comparisons(orders.dropna(subset=["entry_channel"]), "entry_channel").assign(
                dimension="channel"
            ),
        ],
        ignore_index=True,
    )
