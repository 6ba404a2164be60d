"""Daily forecast of a shop series (revenue, orders) with the market's sale days as known future regressors,
and the rolling-origin backtest that chooses between the model and a seasonal-naive baseline.

The model is a seasonal ARIMA on log(1 + y) (statsmodels' SARIMAX, order (1,1,1), weekly seasonal (0,1,1,7):
the "airline" model, which follows a growing shop's level and its weekday pattern) with one exogenous column per
kind of promo day that moves the shop's volume (`sale`; the weeks before and after a sale are labels, not
traffic) when the training days hold one; a history without a sale day cannot estimate its effect, so the column
is left out and sale days are forecast as regular ones (the backtest reports sale days apart for that reason). Intervals come from the model's forecast variance on the log scale, mapped
back, so they are skewed like the series. The baseline repeats the last week (same weekday) with intervals from
the spread of the history's week-on-week changes, widening with each week ahead.

Revenue is forecast as orders x order value: the model forecasts the day's orders and multiplies them by the
median order value of the last four weeks' days, and its intervals add the spread of the days' order values to
the orders' own. A daily revenue is a sum of a hundred or so heavy-tailed order values (a few very large ones):
fitted directly, the model chases those spikes and does no better than the baseline; the orders series is
smooth, and a median is the point forecast that keeps the percentage error of a skewed quantity small.

Pure functions: a history frame in, forecast frames out; the same history gives the same numbers.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import stats

LEVELS = (0.80, 0.95)
PERIODS = ("sale",)
SEASON = 7
MIN_MODEL_DAYS = 35  # five weeks: the seasonal difference and the weekly MA term need several weeks
MIN_BASELINE_DAYS = 14  # two weeks: one to repeat, one week-on-week change to size its interval
MODEL, BASELINE = "sarimax", "seasonal_naive"
ORDER_VALUE_DAYS = 28  # the days whose median order value multiplies the orders forecast of a revenue


def _regressors(periods: pd.Series, columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame({p: (periods == p).astype(float).to_numpy() for p in columns}, index=periods.index)


def fit_model(
    history: pd.Series,
    periods: pd.Series,
    future_periods: pd.Series,
    start: dict | None = None,
    orders: pd.Series | None = None,
) -> tuple[pd.DataFrame, dict]:
    """SARIMAX forecast of the days of `future_periods` after `history` (both indexed by consecutive days;
    `periods`: the promo period of each history day): (the forecast frame, see `_frame`; the fitted
    parameters by name, which the next origin of a backtest starts its search from). `orders`: the daily
    order counts `history` is the total value of (a revenue): the model forecasts them, times the order value
    (see the module's docstring)."""
    if orders is None:
        mean, se, errors, params = _fit_log(history, periods, future_periods, start)
        return _frame(future_periods.index, mean, se, MODEL, errors), params
    mean, se, errors, params = _fit_log(orders, periods, future_periods, start)
    counts = orders.to_numpy(float)[-ORDER_VALUE_DAYS:]
    totals = history.to_numpy(float)[-ORDER_VALUE_DAYS:]
    sold = (counts > 0) & (totals > 0)
    value = np.log(totals[sold] / counts[sold])
    if not len(value):  # no order in four weeks: nothing to price the orders forecast with
        return _frame(future_periods.index, np.zeros(len(mean)), np.zeros(len(mean)), MODEL), params
    level = float(np.median(value))
    revenue = np.log1p(np.expm1(mean).clip(min=0) * np.exp(level))
    # log revenue = log orders + log order value: one orders error (standardised, times the day's standard
    # error) plus one day's order-value deviation, every pair of them
    z = errors if errors is not None else stats.norm.ppf((np.arange(50) + 0.5) / 50)
    offsets = (z[:, None, None] * se[None, None, :] + (value - level)[None, :, None]).reshape(-1, len(se))
    return _frame(future_periods.index, revenue, se, MODEL, offsets=offsets), params


def _fit_log(
    history: pd.Series, periods: pd.Series, future_periods: pd.Series, start: dict | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, dict]:
    """The SARIMAX fit on log(1 + history): (forecast mean and its standard error on that scale, the fit's
    standardised one-step errors or None, the fitted parameters by name).

    The scale is concentrated out of the likelihood (one parameter fewer to search: half the time, the same
    fit). BLAS runs on one thread: the Kalman filter's matrices are tiny, and BLAS threads that spin beside DuckDB's
    (in dbt's process) or other jobs on a busy machine made each fit ten times slower."""
    from statsmodels.tsa.statespace.sarimax import SARIMAX
    from threadpoolctl import threadpool_limits

    seen = [p for p in PERIODS if (periods == p).any()]
    exog = _regressors(periods, seen) if seen else None
    future = _regressors(future_periods, seen) if seen else None
    y = pd.Series(np.log1p(history.to_numpy(float)), index=pd.RangeIndex(len(history)))
    if exog is not None:
        exog.index = y.index
        future.index = pd.RangeIndex(len(y), len(y) + len(future))
    with warnings.catch_warnings(), threadpool_limits(limits=1, user_api="blas"):
        warnings.simplefilter("ignore")  # convergence chatter of the optimiser on short series
        model = SARIMAX(
            y, exog=exog, order=(1, 1, 1), seasonal_order=(0, 1, 1, SEASON), concentrate_scale=True
        )
        start_params = None
        if start and set(start) == set(model.param_names):
            start_params = np.array([start[name] for name in model.param_names])
        fitted = model.fit(start_params=start_params, disp=False)
        prediction = fitted.get_forecast(len(future_periods), exog=future)
        params = dict(zip(model.param_names, np.asarray(fitted.params, float), strict=True))
    mean = np.asarray(prediction.predicted_mean, float)
    se = np.sqrt(np.asarray(prediction.var_pred_mean, float))
    # one-step errors after the differencing's first weeks, in units of their own spread: their quantiles
    # shape the intervals, so a heavy-tailed series gets a narrower middle and longer tails than the normal's
    errors = np.asarray(fitted.resid, float)[SEASON + 1 :]
    errors = errors / errors.std() if len(errors) > 1 and errors.std() > 0 else None
    return mean, se, errors, params


def seasonal_naive(history: pd.Series, future_days: pd.Index) -> pd.DataFrame:
    """The same weekday of the last week, with normal intervals on the log scale whose spread is that of the
    history's week-on-week changes, times sqrt(weeks ahead)."""
    y = np.log1p(history.to_numpy(float))
    horizon = np.arange(len(future_days))
    mean = y[len(y) - SEASON + horizon % SEASON]
    changes = y[SEASON:] - y[:-SEASON]
    sigma = float(np.sqrt(np.mean(changes**2))) if len(changes) else 0.0
    se = sigma * np.sqrt(horizon // SEASON + 1)
    return _frame(future_days, mean, se, BASELINE)


def _frame(
    days: pd.Index,
    log_mean: np.ndarray,
    log_se: np.ndarray,
    model: str,
    errors: np.ndarray | None = None,
    offsets: np.ndarray | None = None,
) -> pd.DataFrame:
    """Forecast rows; the intervals are log_mean + q x log_se, q the normal's quantiles or those of `errors`
    (standardised one-step errors of the fit), or log_mean + the quantiles of each day's column of `offsets`
    (draws of the day's error on the log scale)."""
    out = pd.DataFrame({"forecast_date": days, "model": model, "forecast": np.expm1(log_mean).clip(min=0)})
    for level in LEVELS:
        tail = (1 - level) / 2
        if offsets is not None:
            low, high = np.quantile(offsets, [tail, 1 - tail], axis=0)
            low, high = np.minimum(low, 0.0), np.maximum(high, 0.0)
        else:
            if errors is None:
                q_low, q_high = stats.norm.ppf(tail), stats.norm.ppf(1 - tail)
            else:
                q_low, q_high = np.quantile(errors, tail), np.quantile(errors, 1 - tail)
            low, high = min(q_low, 0.0) * log_se, max(q_high, 0.0) * log_se
        name = round(level * 100)
        out[f"lower_{name}"] = np.expm1(log_mean + low).clip(min=0)
        out[f"upper_{name}"] = np.expm1(log_mean + high).clip(min=0)
    return out


def forecast(
    history: pd.Series,
    periods: pd.Series,
    future_periods: pd.Series,
    model: str,
    start: dict | None = None,
    orders: pd.Series | None = None,
) -> pd.DataFrame:
    """Forecast with `model` (`sarimax` or `seasonal_naive`); empty when the history is too short for it.
    `start`: parameters to start the model's search from (they change the fit only within its tolerance);
    `orders`: see `fit_model`."""
    if model == MODEL and len(history) >= MIN_MODEL_DAYS:
        return fit_model(history, periods, future_periods, start, orders)[0]
    if model == BASELINE and len(history) >= MIN_BASELINE_DAYS:
        return seasonal_naive(history, future_periods.index)
    return _frame(pd.Index([]), np.zeros(0), np.zeros(0), model)


def origins(n_days: int, count: int = 6, horizon: int = 30, step: int = 7) -> list[int]:
    """Positions of the last training day of each backtest origin: the latest leaves `horizon` days to score,
    each earlier one `step` days before, as long as the model has `MIN_MODEL_DAYS` to learn from."""
    last = n_days - horizon - 1
    return sorted(o for o in (last - k * step for k in range(count)) if o + 1 >= MIN_MODEL_DAYS)


def backtest(
    history: pd.Series,
    periods: pd.Series,
    count: int = 6,
    horizon: int = 30,
    step: int = 7,
    orders: pd.Series | None = None,
) -> pd.DataFrame:
    """Rolling-origin backtest of both models: one row per (model, origin, target day) with the actual value,
    the forecast, its intervals, the absolute percentage error and whether each interval held the actual.
    `orders`: see `fit_model`."""
    frames, start = [], None
    for o in origins(len(history), count, horizon, step):
        train, train_periods = history.iloc[: o + 1], periods.iloc[: o + 1]
        target = periods.iloc[o + 1 : o + 1 + horizon]
        for model in (MODEL, BASELINE):
            if model == MODEL:
                train_orders = None if orders is None else orders.iloc[: o + 1]
                f, start = fit_model(train, train_periods, target, start, train_orders)
            else:
                f = forecast(train, train_periods, target, model)
            f.insert(0, "origin_date", history.index[o])
            f["horizon_days"] = np.arange(1, len(f) + 1)
            f["promo_period"] = target.to_numpy()
            f["actual"] = history.iloc[o + 1 : o + 1 + horizon].to_numpy(float)
            frames.append(f)
    if not frames:
        return pd.DataFrame(columns=BACKTEST_COLUMNS)
    out = pd.concat(frames, ignore_index=True)
    out["absolute_percentage_error"] = np.where(
        out["actual"] > 0,
        (out["forecast"] - out["actual"]).abs() / out["actual"].where(out["actual"] > 0),
        np.nan,
    )
    for level in (80, 95):
        out[f"is_within_{level}"] = (out["actual"] >= out[f"lower_{level}"]) & (
            out["actual"] <= out[f"upper_{level}"]
        )
    return out[BACKTEST_COLUMNS]


BACKTEST_COLUMNS = [
    "model", "promo_period", "origin_date", "forecast_date", "horizon_days", "actual", "forecast", "lower_80",
    "upper_80", "lower_95", "upper_95", "absolute_percentage_error", "is_within_80", "is_within_95",
]  # fmt: skip


def summarise(backtest_rows: pd.DataFrame) -> pd.DataFrame:
    """Per model: origins, origin-days, MAPE on regular days (no sale) and on sale days, interval coverage."""
    rows = []
    for model, g in backtest_rows.groupby("model", sort=True):
        sale = g["promo_period"] == "sale"
        rows.append(
            {
                "model": model,
                "origins": g["origin_date"].nunique(),
                "origin_days": len(g),
                "mape_regular_days": float(g.loc[~sale, "absolute_percentage_error"].mean()),
                "mape_sale_days": float(g.loc[sale, "absolute_percentage_error"].mean())
                if sale.any()
                else np.nan,
                "coverage_80": float(g["is_within_80"].mean()),
                "coverage_95": float(g["is_within_95"].mean()),
            }
        )
    return pd.DataFrame(rows)


def choose(summary: pd.DataFrame) -> str:
    """The model with the lower MAPE on regular days in the backtest; the baseline when there is no backtest
    (it needs no evidence to be trusted: it is what a forecast must beat)."""
    scored = summary.dropna(subset=["mape_regular_days"])
    if scored.empty or MODEL not in set(scored["model"]):
        return BASELINE
    return str(scored.sort_values(["mape_regular_days", "model"]).iloc[0]["model"])


def forecast_series(
    history: pd.Series, periods: pd.Series, future_periods: pd.Series, orders: pd.Series | None = None
) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """Backtest, choose and forecast one series: (forecast of the future days, backtest rows, chosen model).
    `orders`: see `fit_model`."""
    rows = backtest(history, periods, orders=orders)
    chosen = choose(summarise(rows)) if len(rows) else BASELINE
    return forecast(history, periods, future_periods, chosen, orders=orders), rows, chosen
