{#- Churn scores with the label where the lake has observed the horizon after the scoring date:
    churned = no order in scored_at + 1 .. scored_at + ecom__churn_horizon_days. -#}
with

scores as (
    select * from {{ source('scores', 'customer_churn') }}
),

orders as (
    select * from {{ ref('stg_lake__orders') }}
),

lake_end as (
    select max(order_date) as last_order_date
    from orders
),

future_orders as (
    select
        scores.user_id,
        scores.scored_at,
        count(orders.order_id) as orders_in_horizon
    from scores
    left join orders
        on
            scores.user_id = orders.user_id
            and scores.scored_at < orders.order_date
            and scores.scored_at + {{ var('ecom__churn_horizon_days') }} >= orders.order_date
    group by scores.user_id, scores.scored_at
),

labelled as (
    select
        scores.user_id,
        scores.channel,
        scores.device,
        scores.region,
        scores.top_category,
        scores.model_version,
        case
            when scores.churn_probability >= 0.5 then 'high'
            when scores.churn_probability >= 0.25 then 'medium'
            else 'low'
        end as risk_band,
        scores.recency_days,
        scores.frequency,
        cast(scores.monetary as decimal(14, 2)) as monetary,
        cast(scores.historical_value as decimal(14, 2)) as historical_value,
        scores.tenure_days,
        scores.orders_30d,
        scores.trend,
        scores.sessions,
        scores.sessions_30d,
        scores.churn_probability,
        case
            when scores.scored_at + {{ var('ecom__churn_horizon_days') }} <= lake_end.last_order_date
                then future_orders.orders_in_horizon = 0
        end as churned,
        scores.scored_at
    from scores
    cross join lake_end
    inner join future_orders
        on scores.user_id = future_orders.user_id and scores.scored_at = future_orders.scored_at
)

select * from labelled
