"""The truth of what sells: each segment's true product, brand and category popularity on a day, and the
planted complement pairs with their true support shares and lift (truth tables: marts never read them).

A purchase line of a segment's order is, in expectation over the day's session plan:

* with probability 1 - OUT_OF_INTENT a product of the order's intent category c, whose share among the day's
  orders is Q(c) (the plan's purchase probabilities, the same for every segment: intents do not depend on
  segments), drawn from the segment's mixture of component tables, each normalized within c;
* with probability OUT_OF_INTENT a product drawn from the same mixture over the whole catalog;
* plus, for every anchor line that stays in the cart, its complement with probability
  COMPANION_VIEW x COMPANION_ADD.

A segment value's mixture averages the components it does not fix over the population: the gender list averages
the age bands and regions by their shares of users (buyers are users drawn independently of their segment).
OUT_OF_INTENT follows from the funnel constants (the later views that leave the intent and the extra adds);
it ignores the category affinity that weights which viewed products join a cart, so the shares are first-order
in that effect (a few percent on categories, less on the ranking of products within them).
"""

from __future__ import annotations

import functools

import numpy as np
import pyarrow as pa

from generator import behaviour as m
from generator import preferences as pf
from generator.arrow import array
from generator.catalog import products_on
from generator.config import GeneratorConfig
from generator.plan import SessionPlan
from generator.vocab import vocabulary

TOP_N = 50  # items per list in the truth table (the marts list 10)
_VIEWS = np.arange(1, m.MAX_PRODUCT_VIEWS + 1)
_P_VIEWS = (1.0 / m.MEAN_PRODUCT_VIEWS) * (1.0 - 1.0 / m.MEAN_PRODUCT_VIEWS) ** (_VIEWS - 1)
_P_VIEWS[-1] += 1.0 - _P_VIEWS.sum()  # the geometric count of views, clipped at MAX_PRODUCT_VIEWS
MEAN_VIEWS = float(_P_VIEWS @ _VIEWS)  # per viewing session, before complements
# lines after the first of a bought cart, in expectation: the extra adds less the removal of one line from a
# cart of two or more
_TWO_OR_MORE = 1.0 - float(_P_VIEWS @ (1.0 - m.EXTRA_ADD_PROBABILITY) ** (_VIEWS - 1))
EXTRA_LINES = m.EXTRA_ADD_PROBABILITY * (MEAN_VIEWS - 1.0) - m.REMOVE_PROBABILITY * _TWO_OR_MORE
OUT_OF_INTENT = (1.0 - m.INTENT_VIEW_SHARE) * EXTRA_LINES / (1.0 + EXTRA_LINES)
COMPANION_LINE = pf.COMPANION_VIEW * pf.COMPANION_ADD


def _segments(market: str) -> list[tuple[str, str, np.ndarray]]:
    """(segment_type, segment, coefficients over the component tables) of every list the truth holds."""
    tables = pf.component_tables(market)
    names, _, region_share = pf.regions(market)
    group = pf.region_group(market)
    w = pf.COMPONENT_SHARE
    group_share = np.bincount(group, weights=region_share, minlength=pf.REGION_GROUPS)
    pop = {1: m.GENDER_MIX, 2: pf.age_band_shares(), 3: group_share}

    def coefficients(fixed: dict[int, int]) -> np.ndarray:
        c = np.zeros(len(tables))
        for t, (component, value) in enumerate(tables):
            if component == 0:
                c[t] = w[0]
            elif component in fixed:
                c[t] = w[component] * (value == fixed[component])
            else:
                c[t] = w[component] * pop[component][value]
        return c

    out = [("all", "all", coefficients({}))]
    out += [("gender", g, coefficients({1: i})) for i, g in enumerate(pf.GENDERS)]
    out += [("age_band", a, coefficients({2: i})) for i, a in enumerate(pf.AGE_BANDS)]
    out += [("region", r, coefficients({3: int(group[i])})) for i, r in enumerate(names)]
    return out


_LAST: dict = {}  # (cfg, day) -> line_shares of the day: its two truth tables ask for the same one in turn


def line_shares(cfg: GeneratorConfig, plan: SessionPlan) -> tuple[list[tuple[str, str]], np.ndarray, dict]:
    """(segments, (segments, products) expected share of the day's purchase lines, facts of the day), from the
    day's session plan (the one the day's events come from: making it again would double its cost)."""
    key = (cfg, plan.day)
    if key not in _LAST:
        _LAST.clear()
        _LAST[key] = _line_shares(cfg, plan)
    return _LAST[key]


def _line_shares(cfg: GeneratorConfig, plan: SessionPlan) -> tuple[list[tuple[str, str]], np.ndarray, dict]:
    n_products = products_on(cfg, plan.day)
    model = pf.product_model(cfg, n_products)
    weights = pf.day_weights(cfg, n_products, plan.day)
    tables = weights / weights.sum(axis=1, keepdims=True)
    n_cat = len(m.CATEGORIES)
    by_cat = np.stack([np.bincount(model.category, weights=t, minlength=n_cat) for t in tables])
    within = tables / np.where(by_cat > 0, by_cat, 1.0)[:, model.category]
    p_view, p_cart, p_checkout, p_purchase = plan.probabilities
    buy = p_view * p_cart * p_checkout * p_purchase
    q = np.bincount(plan.intent, weights=buy, minlength=n_cat)
    q = q / q.sum() if q.sum() > 0 else np.full(n_cat, 1.0 / n_cat)
    segments = _segments(cfg.market)
    # regions of one preference group share their list: compute each distinct mixture once
    coef, row_of = np.unique(np.stack([c for _, _, c in segments]), axis=0, return_inverse=True)
    row_of = row_of.ravel()
    everybody = int(row_of[0])
    organic = (1.0 - OUT_OF_INTENT) * q[model.category] * (coef @ within) + OUT_OF_INTENT * (coef @ tables)
    anchors = np.flatnonzero(model.partner > 0)
    target = model.partner[anchors] - 1
    shares = organic + COMPANION_LINE * np.stack(
        [np.bincount(target, weights=row[anchors], minlength=n_products) for row in organic]
    )
    lines_per_order = (1.0 + EXTRA_LINES) * shares[
        everybody
    ].sum()  # organic lines sum to 1 per 1 + EXTRA_LINES
    shares = shares / shares.sum(axis=1, keepdims=True)
    facts = {
        "organic": organic[everybody] / organic[everybody].sum(),
        "row_of": row_of,
        "everybody": everybody,
        "lines_per_order": lines_per_order,
        "expected_orders": float(buy.sum()),
        "model": model,
        "tables": tables,
        "within": within,
        "coef_all": coef[everybody],
        "intent_views": np.bincount(plan.intent, weights=p_view, minlength=n_cat),
        "anonymous_view_share": float(p_view[plan.session_type == 0].sum() / max(p_view.sum(), 1e-12)),
    }
    return [(a, b) for a, b, _ in segments], shares, facts


def _grouped(shares: np.ndarray, group: np.ndarray, n_groups: int) -> np.ndarray:
    return np.stack([np.bincount(group, weights=s, minlength=n_groups) for s in shares])


@functools.lru_cache(maxsize=4)
def _item_ids(cfg: GeneratorConfig, n_products: int) -> dict[str, tuple[pa.Array, np.ndarray | None]]:
    """Per item kind: (every item id, as strings; each product's item, None for products themselves). The
    catalog of a day depends only on how many products are on sale."""
    model = pf.product_model(cfg, n_products)
    vocab = vocabulary(cfg.seed, cfg.locale)
    brand_names = np.array(vocab.brands.to_pylist(), dtype=object)
    distinct_brands, brand_of = np.unique(brand_names[model.brand_code], return_inverse=True)
    return {
        "product": (array(np.arange(1, n_products + 1)).cast(pa.string()), None),
        "brand": (array(distinct_brands.astype(str), pa.string()), brand_of.ravel()),
        "category": (array(pf.CATEGORY_NAMES, pa.string()), model.category),
    }


def _strings(indices: np.ndarray, dictionary) -> pa.Array:
    """`dictionary[indices]` as a plain string column (built by Arrow, not one Python string at a time)."""
    values = dictionary if isinstance(dictionary, pa.Array) else array(list(dictionary), pa.string())
    return pa.DictionaryArray.from_arrays(array(indices, pa.int32()), values).cast(pa.string())


def build_product_truth(cfg: GeneratorConfig, plan: SessionPlan) -> pa.Table:
    """`product_truth` of the day: the top TOP_N products and brands and every category of each segment."""
    segments, shares, facts = line_shares(cfg, plan)
    kinds = _item_ids(cfg, shares.shape[1])
    season = pf.SEASONS[pf.season_of(plan.day)]
    rows = facts["row_of"]
    n_segments = len(segments)
    parts = []
    for kind, (ids, group) in kinds.items():
        per_item = shares if group is None else _grouped(shares, group, len(ids))
        k = min(TOP_N, per_item.shape[1])
        top = np.argpartition(-per_item, k - 1, axis=1)[:, :k]  # the k largest, then in order
        order = np.lexsort((top, -np.take_along_axis(per_item, top, axis=1)), axis=1)
        top = np.take_along_axis(top, order, axis=1)
        top_share = np.take_along_axis(per_item, top, axis=1)
        parts.append((kind, k, _strings(top[rows].ravel(), ids), top_share[rows].ravel()))
    segment_of_row = np.concatenate([np.repeat(np.arange(n_segments), k) for _, k, _, _ in parts])
    kind_of_row = np.concatenate([np.full(n_segments * k, i) for i, (_, k, _, _) in enumerate(parts)])
    n = len(segment_of_row)
    return pa.table(
        {
            "segment_type": _strings(segment_of_row, [a for a, _ in segments]),
            "segment": _strings(segment_of_row, [b for _, b in segments]),
            "season": _strings(np.zeros(n, np.int32), [season]),
            "item_kind": _strings(kind_of_row, [kind for kind, _, _, _ in parts]),
            "rank": array(
                np.concatenate([np.tile(np.arange(1, k + 1), n_segments) for _, k, _, _ in parts]).astype(
                    np.int32
                ),
                pa.int32(),
            ),
            "item_id": pa.concat_arrays([ids for _, _, ids, _ in parts]),
            "share": array(np.concatenate([share for _, _, _, share in parts]), pa.float64()),
            "expected_orders": array(np.full(n, facts["expected_orders"]), pa.float64()),
        }
    )


def build_complement_truth(cfg: GeneratorConfig, plan: SessionPlan) -> pa.Table:
    """`complement_truth` of the day: every planted pair whose anchor is on sale, with the probabilities that a
    basket (order) or a viewing session holds the anchor, the complement and both, and their lift."""
    _, shares, facts = line_shares(cfg, plan)
    model = facts["model"]
    launched = model.launch_offset_days <= (plan.day - cfg.opening_date).days
    anchors = np.flatnonzero((model.partner > 0) & launched)
    partner = model.partner[anchors] - 1
    # baskets: P(holds x) ~ lines per order x x's line share (shares are small: one line of x per basket)
    lines = facts["lines_per_order"]
    organic = facts["organic"] * (1.0 + EXTRA_LINES)
    everybody = shares[facts["everybody"]]
    p_a, p_b = lines * everybody[anchors], lines * everybody[partner]
    both = organic[anchors] * COMPANION_LINE + p_a * p_b
    # sessions that view products: the first view is in the intent, later ones in it at INTENT_VIEW_SHARE;
    # anonymous visitors view by the base table only
    within, tables, coef = facts["within"], facts["tables"], facts["coef_all"]
    intent = facts["intent_views"] / max(facts["intent_views"].sum(), 1e-12)
    in_share = (1.0 + m.INTENT_VIEW_SHARE * (MEAN_VIEWS - 1.0)) / MEAN_VIEWS
    anon = facts["anonymous_view_share"]
    base_coef = np.zeros_like(coef)
    base_coef[0] = 1.0
    mix = anon * base_coef + (1.0 - anon) * coef
    view_share = in_share * intent[model.category] * (mix @ within) + (1.0 - in_share) * (mix @ tables)
    v_a = MEAN_VIEWS * view_share[anchors]
    v_b = MEAN_VIEWS * view_share[partner] + pf.COMPANION_VIEW * v_a
    v_both = v_a * pf.COMPANION_VIEW + v_a * MEAN_VIEWS * view_share[partner]
    n = len(anchors)
    ids, rel = array(anchors + 1, pa.int64()), array(partner + 1, pa.int64())
    return pa.table(
        {
            "kind": _strings(np.repeat([0, 1], n), ("bought_together", "viewed_together")),
            "product_id": pa.concat_arrays([ids, ids]),
            "related_product_id": pa.concat_arrays([rel, rel]),
            "planted_probability": array(np.repeat([COMPANION_LINE, pf.COMPANION_VIEW], n), pa.float64()),
            "p_product": array(np.concatenate([p_a, v_a]), pa.float64()),
            "p_related": array(np.concatenate([p_b, v_b]), pa.float64()),
            "p_both": array(np.concatenate([both, v_both]), pa.float64()),
            "true_lift": array(np.concatenate([both / (p_a * p_b), v_both / (v_a * v_b)]), pa.float64()),
            "expected_orders": array(np.full(2 * n, float(facts["expected_orders"])), pa.float64()),
            "expected_view_sessions": array(np.full(2 * n, float(plan.probabilities[0].sum())), pa.float64()),
        }
    )
