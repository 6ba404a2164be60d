"""Daily revenue and orders: the rolling-origin backtest of the model and the seasonal-naive baseline, and the
next 90 days from the model that won it (predict/forecast.py). dm_revenue_forecast and dm_forecast_backtest
type its rows (`row_kind` forecast or backtest)."""

HORIZON_DAYS = 90


def model(dbt, session):
    dbt.config(materialized="table")
    import datetime as dt

    import pandas as pd

    from predict import forecast as fc

    kpis = dbt.ref("dm_kpi_daily").df().sort_values("kpi_date")
    promo = dbt.ref("int_promo_days").df()
    days = pd.Index([pd.Timestamp(d).date() for d in kpis["kpi_date"]])
    periods = pd.Series(kpis["promo_period"].to_numpy(), index=days)
    frames = []
    if len(days):
        known = dict(
            zip((pd.Timestamp(d).date() for d in promo["promo_date"]), promo["promo_period"], strict=True)
        )
        future = pd.Index([days[-1] + dt.timedelta(days=k) for k in range(1, HORIZON_DAYS + 1)])
        future_periods = pd.Series([known.get(d, "regular") for d in future], index=future)
        orders = pd.Series(kpis["orders"].astype(float).to_numpy(), index=days)
        for metric in ("revenue", "orders"):
            history = pd.Series(kpis[metric].astype(float).to_numpy(), index=days)
            per_order = orders if metric == "revenue" else None  # revenue: the orders forecast x order value
            ahead, backtest, chosen = fc.forecast_series(history, periods, future_periods, per_order)
            ahead = ahead.assign(
                row_kind="forecast",
                metric=metric,
                origin_date=days[-1],
                horizon_days=range(1, len(ahead) + 1),
                promo_period=future_periods.to_numpy()[: len(ahead)],
            )
            backtest = backtest.assign(row_kind="backtest", metric=metric)
            frames.append(pd.concat([ahead, backtest], ignore_index=True).assign(chosen_model=chosen))
    columns = ["row_kind", "metric", "chosen_model", *fc.BACKTEST_COLUMNS]
    if not frames:
        return pd.DataFrame(
            {c: pd.Series(dtype="float64" if c in fc.BACKTEST_COLUMNS[5:12] else "object") for c in columns}
        )
    out = pd.concat(frames, ignore_index=True)
    for c in ("origin_date", "forecast_date"):
        out[c] = pd.to_datetime(out[c])
    out["is_within_80"] = out["is_within_80"].astype("boolean")
    out["is_within_95"] = out["is_within_95"].astype("boolean")
    return out.reindex(columns=columns)
