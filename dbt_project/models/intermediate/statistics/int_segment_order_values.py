"""Order value of each RFM segment and each entry channel against the largest one (predict/experiments.py);
dm_segment_comparisons types it."""


def model(dbt, session):
    dbt.config(materialized="table")
    import pandas as pd

    from predict.experiments import segment_comparisons

    orders = dbt.ref("int_orders_enriched").df()[["order_id", "user_id", "session_id", "order_total"]]
    sessions = dbt.ref("int_events_sessionized").df()[["session_id", "entry_channel"]]
    segments = dbt.ref("dm_rfm_segments").df()[["user_id", "segment_name"]]
    orders = orders.assign(order_value=orders["order_total"].astype(float))
    orders = orders.merge(sessions, on="session_id", how="left").merge(segments, on="user_id", how="left")
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
