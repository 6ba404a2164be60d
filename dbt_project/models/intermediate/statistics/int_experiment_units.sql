{#- One row per experiment x variant x unit (the user or the session that was randomised): the unit's exposed
    sessions, how many of them placed an order, and those orders' count and value (order totals as placed). -#}

with

exposures as (
    select * from {{ ref('stg_lake__experiment_exposures') }}
),

experiments as (
    select * from {{ ref('experiments') }}
),

orders as (
    select * from {{ ref('stg_lake__orders') }}
),

orders_by_session as (
    select
        session_id,
        count(*) as orders,
        sum(order_total) as order_value
    from orders
    group by session_id
),

exposed_sessions as (
    select
        exposures.experiment_id,
        exposures.variant,
        exposures.session_id,
        case when experiments.unit = 'user' then exposures.user_id else exposures.session_id end as unit_id,
        coalesce(orders_by_session.orders, 0) as orders,
        coalesce(orders_by_session.order_value, 0) as order_value
    from exposures
    inner join experiments on exposures.experiment_id = experiments.experiment_id
    left join orders_by_session on exposures.session_id = orders_by_session.session_id
),

final as (
    select
        experiment_id,
        variant,
        unit_id,
        count(*) as sessions,
        count(*) filter (where orders > 0) as converted_sessions,
        sum(orders) as orders,
        cast(sum(order_value) as double) as order_value
    from exposed_sessions
    where unit_id is not null
    group by experiment_id, variant, unit_id
)

select * from final
