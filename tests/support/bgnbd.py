"""BG/NBD (Fader, Hardie and Lee 2005) fitted by maximum likelihood, with numpy only.

The log-likelihood of a customer with x repeat purchases, the last at t_x, observed for T after the first:

    LL = ln Gamma(r + x) - ln Gamma(r) + r ln alpha + ln B(a, b + x) - ln B(a, b)
         + ln[ (alpha + T)^-(r + x) + [x > 0] a / (b + x - 1) (alpha + t_x)^-(r + x) ]

The Gamma and Beta ratios with integer x are sums of logs, so no special functions are needed; the optimiser is
Nelder-Mead on the logs of the four parameters.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class BGNBD:
    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float


def _rising_log(start: float, x: np.ndarray, max_x: int) -> np.ndarray:
    """ln Gamma(start + x) - ln Gamma(start) for integer x >= 0."""
    table = np.concatenate([[0.0], np.cumsum(np.log(start + np.arange(max_x)))])
    return table[x]


def log_likelihood(params: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, w: np.ndarray) -> float:
    r, alpha, a, b = params
    max_x = int(x.max()) + 1
    a1 = _rising_log(r, x, max_x) + r * np.log(alpha)
    a2 = _rising_log(b, x, max_x) - _rising_log(a + b, x, max_x)
    a3 = -(r + x) * np.log(alpha + T)
    with np.errstate(divide="ignore", invalid="ignore"):
        a4 = np.where(
            x > 0, np.log(a) - np.log(np.maximum(b + x - 1, 1e-300)) - (r + x) * np.log(alpha + t_x), -np.inf
        )
    return float((w * (a1 + a2 + np.logaddexp(a3, a4))).sum())


def nelder_mead(f, x0: np.ndarray, steps: int = 2000, tol: float = 1e-9) -> np.ndarray:
    """Minimise f from x0 (standard reflection / expansion / contraction / shrink)."""
    n = len(x0)
    simplex = np.vstack([x0] + [x0 + np.eye(n)[i] * 0.5 for i in range(n)])
    values = np.array([f(p) for p in simplex])
    for _ in range(steps):
        order = np.argsort(values)
        simplex, values = simplex[order], values[order]
        if abs(values[-1] - values[0]) < tol * (1 + abs(values[0])):
            break
        centroid = simplex[:-1].mean(axis=0)
        reflected = centroid + (centroid - simplex[-1])
        fr = f(reflected)
        if fr < values[0]:
            expanded = centroid + 2 * (centroid - simplex[-1])
            fe = f(expanded)
            simplex[-1], values[-1] = (expanded, fe) if fe < fr else (reflected, fr)
        elif fr < values[-2]:
            simplex[-1], values[-1] = reflected, fr
        else:
            contracted = centroid + 0.5 * (simplex[-1] - centroid)
            fc = f(contracted)
            if fc < values[-1]:
                simplex[-1], values[-1] = contracted, fc
            else:
                simplex[1:] = simplex[0] + 0.5 * (simplex[1:] - simplex[0])
                values[1:] = [f(p) for p in simplex[1:]]
    return simplex[np.argmin(values)]


def fit(frequency: np.ndarray, recency: np.ndarray, T: np.ndarray) -> BGNBD:
    """Fit to per-customer (repeat purchases, time of the last, time observed), all times in one unit."""
    keys = np.stack([np.asarray(frequency, float), np.asarray(recency, float), np.asarray(T, float)], axis=1)
    unique, counts = np.unique(keys, axis=0, return_counts=True)
    x = unique[:, 0].astype(np.int64)
    t_x, big_t, w = unique[:, 1], unique[:, 2], counts.astype(float)

    def objective(log_params: np.ndarray) -> float:
        if np.any(np.abs(log_params) > 12):
            return np.inf
        value = -log_likelihood(np.exp(log_params), x, t_x, big_t, w)
        return value if np.isfinite(value) else np.inf

    start = np.log(np.array([0.5, max(float(np.mean(big_t)), 1e-3), 1.0, 1.0]))
    best = nelder_mead(objective, start)
    best = nelder_mead(objective, best)  # a restart settles a collapsed simplex
    r, alpha, a, b = np.exp(best)
    return BGNBD(float(r), float(alpha), float(a), float(b), -objective(best))


def simulate(
    rng: np.random.Generator, n: int, r: float, alpha: float, a: float, b: float, T: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Customers drawn from a BG/NBD with these parameters, each observed for T after their first purchase."""
    lam = rng.gamma(r, 1.0 / alpha, size=n)
    p = rng.beta(a, b, size=n)
    frequency = np.zeros(n, dtype=np.int64)
    recency = np.zeros(n)
    t = np.zeros(n)
    active = np.ones(n, dtype=bool)
    while active.any():
        idx = np.flatnonzero(active)
        t[idx] += rng.exponential(1.0 / lam[idx])
        within = t[idx] <= T
        buy = idx[within]
        frequency[buy] += 1
        recency[buy] = t[buy]
        active[idx[~within]] = False
        drop = rng.random(len(buy)) < p[buy]
        active[buy[drop]] = False
    return frequency, recency, np.full(n, T)
