"""Experiments: one readout per experiment (dm_experiment_results): the target metric's lift with its 95%
interval against zero, the sample-ratio check, and every metric in a table."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from dashboard.marts import load, q
from dashboard.ui import count, percent, show, table
from pipeline.settings import Settings

METRIC_NAMES = {"conversion_rate": "Conversion", "average_order_value": "Average order value"}

# ------------------------------------------------------------------------------------------ queries


def results(settings: Settings) -> pd.DataFrame:
    return q(
        settings,
        "select experiment_id, metric, description, unit, test_name, verdict, control_units, treatment_units, "
        "planned_treatment_share, srm_p_value, control_value, treatment_value, relative_lift, "
        "relative_lift_lower_95, relative_lift_upper_95, p_value, welch_p_value, mann_whitney_p_value, "
        "is_primary_metric, is_srm_flagged, start_date, end_date from marts.dm_experiment_results "
        "order by start_date, experiment_id, is_primary_metric desc, metric",
        dates=("start_date", "end_date"),
    )


# ------------------------------------------------------------------------------------------------ page


def _lift_chart(rows: pd.DataFrame, title: str) -> None:
    shown = rows.dropna(subset=["relative_lift"])
    names = shown.metric.map(METRIC_NAMES)
    fig = go.Figure(
        go.Scatter(
            x=shown.relative_lift,
            y=names,
            mode="markers",
            name="Relative lift",
            error_x={
                "type": "data",
                "symmetric": False,
                "array": shown.relative_lift_upper_95 - shown.relative_lift,
                "arrayminus": shown.relative_lift - shown.relative_lift_lower_95,
            },
        )
    )
    fig.add_vline(x=0, line_dash="dash", line_color="#888")
    fig.update_xaxes(tickformat="+.0%", title="Relative lift, treatment vs control (95% interval)")
    fig.update_yaxes(title="Metric")
    fig.update_layout(height=220)
    exported = shown.assign(metric=names)[
        ["metric", "relative_lift", "relative_lift_lower_95", "relative_lift_upper_95", "p_value"]
    ]
    show(fig, exported, title)


def page() -> None:
    st.title("Experiments")
    frame = load(results)
    experiments = list(dict.fromkeys(frame.experiment_id))
    flagged = frame[frame.is_primary_metric & frame.is_srm_flagged].experiment_id.nunique()
    cols = st.columns(3)
    cols[0].metric("Experiments", count(len(experiments)))
    primary = frame[frame.is_primary_metric]
    winners = primary[~primary.is_srm_flagged & primary.verdict.str.startswith("treatment is")]
    cols[1].metric("With a detected effect", count(len(winners)))
    cols[2].metric("Sample-ratio mismatches", count(flagged))
    st.caption(
        "Each readout compares the treatment with the control on the experiment's target metric first. Users "
        "are the units of user experiments (delta method), sessions of session experiments; intervals are 95%. "
        "A sample-ratio mismatch (p < 0.001) means the arms are not comparable: the result is not to be trusted."
    )
    if frame.empty:
        st.info("No experiment in the plan.")
        return
    for experiment_id in experiments:
        rows = frame[frame.experiment_id == experiment_id]
        head = rows.iloc[0]
        main = rows[rows.is_primary_metric].iloc[0] if rows.is_primary_metric.any() else head
        st.subheader(f"{experiment_id}: {head.description}")
        st.caption(
            f"{head.start_date:%d %b %Y} to {head.end_date:%d %b %Y} · randomised by {head.unit} · planned "
            f"{percent(head.planned_treatment_share)} in treatment · target: {METRIC_NAMES[main.metric]}"
        )
        verdict = f"{METRIC_NAMES[main.metric]}: {main.verdict}"
        if main.is_srm_flagged:
            st.error(verdict)
        elif main.verdict.startswith("treatment is"):
            st.success(verdict)
        else:
            st.info(verdict)
        srm = "n/a" if pd.isna(main.srm_p_value) else f"p = {main.srm_p_value:.3g}"
        st.write(
            f"Units: {count(main.control_units)} control, {count(main.treatment_units)} treatment. "
            f"Sample-ratio check: {srm}" + (" (mismatch)" if main.is_srm_flagged else " (passed)")
        )
        if rows.relative_lift.notna().any():
            _lift_chart(rows, f"{experiment_id}: lift against zero")
    table(
        frame.assign(metric=frame.metric.map(METRIC_NAMES))[
            [
                "experiment_id",
                "metric",
                "control_units",
                "treatment_units",
                "control_value",
                "treatment_value",
                "relative_lift",
                "relative_lift_lower_95",
                "relative_lift_upper_95",
                "p_value",
                "srm_p_value",
                "verdict",
            ]
        ],
        "Every readout",
        count_columns=("control_units", "treatment_units"),
        percent_columns=("relative_lift", "relative_lift_lower_95", "relative_lift_upper_95"),
    )
