"""Buy-till-you-die models: BG/NBD (Fader, Hardie and Lee 2005) for orders, Gamma-Gamma for their value.

The one module of the project that imports `lifetimes`, pinned at 0.11.3 in requirements.lock. It is the field's
reference implementation of these models but unmaintained since 2020; it imports and fits on numpy 2.4 and
pandas 3 here, and tests/predict/test_btyd.py reproduces the published CDNOW fit (r 0.243, alpha 4.414, a 0.793,
b 2.426) from the data set it ships, so an upgrade or a numpy/pandas change that breaks it fails a test. Only its
public API is used: `fit`, `params_` and the conditional expectations.

Time is in days. A purchase occasion is a day with at least one order: `frequency` counts the occasions after
the first, `recency` is the days from the first to the last, `T` the days from the first to the as-of date.
"""

from __future__ import annotations

import contextlib
import io
import warnings
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from lifetimes import BetaGeoFitter, GammaGammaFitter

LIFETIMES_VERSION = "0.11.3"


@contextlib.contextmanager
def _quiet():
    """lifetimes prints scipy's result when a fit does not converge, and autograd warns on log(0) steps of the
    optimiser and of the conditional expectations (customers at the edge of the data): neither is the user's."""
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


@dataclass(frozen=True)
class BtydParams:
    r: float
    alpha: float
    a: float
    b: float
    p: float  # Gamma-Gamma
    q: float
    v: float

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


def fit_bgnbd(frequency, recency, T, penalizer: float = 0.0) -> dict[str, float]:
    """BG/NBD's r, alpha, a, b by maximum likelihood."""
    fitter = BetaGeoFitter(penalizer_coef=penalizer)
    with _quiet():
        fitter.fit(
            pd.Series(np.asarray(frequency, dtype=float)),
            pd.Series(np.asarray(recency, dtype=float)),
            pd.Series(np.asarray(T, dtype=float)),
        )
    return {k: float(fitter.params_[k]) for k in ("r", "alpha", "a", "b")}


def fit_btyd(frequency, recency, T, monetary, penalizer: float = 0.001) -> BtydParams:
    """BG/NBD on the purchase occasions and Gamma-Gamma on the mean value of repeat occasions (customers with
    at least one repeat, as the model requires).

    BG/NBD gets a small L2 penalty (0.001: unpenalised, the optimiser wanders for a minute on a day-scale
    alpha); Gamma-Gamma none (a penalty on its large scale v pushes q below 1, where the expected value of
    an order has no finite mean)."""
    from lifetimes.utils import ConvergenceError

    for attempt in (penalizer, penalizer * 10, penalizer * 100):  # a few customers may need a firmer prior
        try:
            bgnbd = fit_bgnbd(frequency, recency, T, attempt)
            break
        except ConvergenceError:
            if attempt == penalizer * 100:
                raise ValueError(f"BG/NBD did not converge (L2 penalties {penalizer} to {attempt})") from None
    frequency = np.asarray(frequency, dtype=float)
    monetary = np.asarray(monetary, dtype=float)
    repeat = (frequency > 0) & (monetary > 0)
    gg = GammaGammaFitter(penalizer_coef=0.0)
    with _quiet():
        gg.fit(pd.Series(frequency[repeat]), pd.Series(monetary[repeat]))
    return BtydParams(**bgnbd, **{k: float(gg.params_[k]) for k in ("p", "q", "v")})


def _bgnbd(params: BtydParams) -> BetaGeoFitter:
    fitter = BetaGeoFitter()
    fitter.params_ = pd.Series({k: getattr(params, k) for k in ("r", "alpha", "a", "b")})
    return fitter


def probability_alive(params: BtydParams, frequency, recency, T) -> np.ndarray:
    with _quiet():
        alive = _bgnbd(params).conditional_probability_alive(
            np.asarray(frequency, float), np.asarray(recency, float), np.asarray(T, float)
        )
    return np.asarray(alive, dtype=float)


def probability_no_purchase(params: BtydParams, days: int, frequency, recency, T) -> np.ndarray:
    """P(no purchase in the next `days` days): BG/NBD's churn probability over a horizon.

    Dropout happens only right after a purchase, so a customer alive at T buys nothing in (T, T + t] with
    probability exp(-lambda t), and their lambda is Gamma(r + x, alpha + T) a posteriori: E = ((alpha + T) /
    (alpha + T + t)) ** (r + x). A customer already dead buys nothing: 1 - P(alive) (1 - E).
    """
    x, big_t = np.asarray(frequency, float), np.asarray(T, float)
    alive = probability_alive(params, frequency, recency, T)
    quiet = ((params.alpha + big_t) / (params.alpha + big_t + days)) ** (params.r + x)
    return 1.0 - alive * (1.0 - quiet)


def expected_orders(params: BtydParams, days: int, frequency, recency, T) -> np.ndarray:
    """Expected purchase occasions in the next `days` days."""
    with _quiet():
        orders = _bgnbd(params).conditional_expected_number_of_purchases_up_to_time(
            days, np.asarray(frequency, float), np.asarray(recency, float), np.asarray(T, float)
        )
    return np.asarray(orders, dtype=float)


def expected_order_value(params: BtydParams, frequency, monetary) -> np.ndarray:
    """Gamma-Gamma's expected value of a future occasion (the population mean for a customer with no repeat)."""
    gg = GammaGammaFitter()
    gg.params_ = pd.Series({"p": params.p, "q": params.q, "v": params.v})
    x = np.asarray(frequency, dtype=float)
    m = np.where(x > 0, np.asarray(monetary, dtype=float), 0.0)
    with _quiet():
        value = gg.conditional_expected_average_profit(pd.Series(x), pd.Series(m))
    return np.asarray(value, dtype=float)
