{{ config(materialized='incremental', unique_key='kpi_date', partition_by=day_partition('kpi_date'),
    pre_hook="{{ clear_rebuild_window('kpi_date') }}") }}

with

sessions as (
    select * from {{ ref('int_events_sessionized') }}
    where {{ incremental_window('session_date', 'kpi_date') }}
),

orders as (
    select * from {{ ref('int_orders_enriched') }}
    where {{ incremental_window('order_date', 'kpi_date') }}
),

users as (
    select * from {{ ref('stg_lake__users') }}
    where {{ incremental_window('partition_date', 'kpi_date') }}
),

traffic_by_day as (
    select
        session_date as kpi_date,
        max(promo_period) as promo_period,
        max(promotion_name) as promotion_name,
        count(*) as sessions,
        count(distinct user_id) as active_users,
        count(*) filter (where reached_cart) as cart_sessions,
        count(*) filter (where reached_purchase) as purchase_sessions,
        {{ dbt.bool_or('is_sale_day') }} as is_sale_day
    from sessions
    group by session_date
),

orders_by_day as (
    select
        order_date as kpi_date,
        count(*) as orders,
        sum(order_total) as revenue
    from orders
    group by order_date
),

signups_by_day as (
    select
        signup_date as kpi_date,
        count(*) as new_users
    from users
    group by signup_date
),

final as (
    select
        traffic_by_day.kpi_date,
        traffic_by_day.promo_period,
        traffic_by_day.promotion_name,
        traffic_by_day.sessions,
        traffic_by_day.active_users,
        coalesce(signups_by_day.new_users, 0) as new_users,
        coalesce(orders_by_day.orders, 0) as orders,
        cast(coalesce(orders_by_day.revenue, 0) as decimal(14, 2)) as revenue,
        {{ money_per('orders_by_day.revenue', 'orders_by_day.orders') }} as average_order_value,
        {{ ratio('traffic_by_day.purchase_sessions', 'traffic_by_day.sessions') }} as conversion_rate,
        {{ ratio('traffic_by_day.cart_sessions - traffic_by_day.purchase_sessions', 'traffic_by_day.cart_sessions') }}
            as cart_abandonment_rate,
        traffic_by_day.is_sale_day
    from traffic_by_day
    left join orders_by_day on traffic_by_day.kpi_date = orders_by_day.kpi_date
    left join signups_by_day on traffic_by_day.kpi_date = signups_by_day.kpi_date
)

select * from final
