{#- The published prediction (predicted_*) is the model that won the backtest (predicted_by); the 365-day
    figures are BG/NBD's for both (the ML model only knows the 90 days its labels observe). -#}
with

scores as (
    select * from {{ source('scores', 'customer_lifetime_value') }}
),

published as (
    select
        user_id,
        predicted_by,
        model_version,
        frequency,
        cast(historical_value as decimal(14, 2)) as historical_value,
        probability_alive,
        bgnbd_orders_90d,
        cast(bgnbd_spend_90d as decimal(14, 2)) as bgnbd_spend_90d,
        bgnbd_orders_365d,
        cast(bgnbd_spend_365d as decimal(14, 2)) as bgnbd_spend_365d,
        ml_orders_90d,
        cast(ml_spend_90d as decimal(14, 2)) as ml_spend_90d,
        case when predicted_by = 'ml' then ml_orders_90d else bgnbd_orders_90d end as predicted_orders_90d,
        cast(case when predicted_by = 'ml' then ml_spend_90d else bgnbd_spend_90d end as decimal(14, 2))
            as predicted_spend_90d,
        bgnbd_orders_365d as predicted_orders_365d,
        cast(bgnbd_spend_365d as decimal(14, 2)) as predicted_spend_365d,
        scored_at
    from scores
)

select * from published
