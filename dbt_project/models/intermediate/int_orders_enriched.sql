{#- Orders with their state after late cancellations and returns. On incremental runs the orders of the
    lookback window are rebuilt, plus every older day (within the late-change horizon) holding an order whose
    status changed in a partition of the window. Whole days, because Spark replaces day partitions. -#}
{{ config(materialized='incremental', unique_key='order_id', partition_by=day_partition('partition_date'),
    pre_hook="{{ clear_rebuild_window('partition_date') }}") }}

with

orders as (
    select * from {{ ref('stg_lake__orders') }}
),

status_changes as (
    select * from {{ ref('stg_lake__order_status_changes') }}
),

recently_changed as (
    select distinct order_id
    from status_changes
    where {{ incremental_window('partition_date', 'partition_date') }}
),

changed_days as (
    select distinct orders.partition_date
    from orders
    inner join recently_changed on orders.order_id = recently_changed.order_id
    where {{ incremental_window('orders.partition_date', 'partition_date', var('ecom__late_change_horizon_days')) }}
),

orders_in_window as (
    select *
    from orders
    where
        {{ incremental_window('partition_date', 'partition_date', var('ecom__late_change_horizon_days')) }}
        and (
            {{ incremental_window('partition_date', 'partition_date') }}
            or partition_date in (select changed_days.partition_date from changed_days)
        )
),

latest_change as (
    select
        order_id,
        status,
        changed_at,
        row_number() over (partition by order_id order by changed_at desc, status asc) as change_rank
    from status_changes
),

final as (
    select
        orders_in_window.order_id,
        orders_in_window.user_id,
        orders_in_window.session_id,
        coalesce(latest_change.status, orders_in_window.initial_status) as order_status,
        orders_in_window.payment_method,
        orders_in_window.shipping_method,
        orders_in_window.item_count,
        orders_in_window.subtotal_amount,
        orders_in_window.discount_amount,
        orders_in_window.order_total,
        cast(
            case when latest_change.status in ('cancelled', 'returned') then 0 else orders_in_window.order_total end
            as decimal(12, 2)
        ) as net_revenue,
        orders_in_window.shipping_cost,
        coalesce(latest_change.status = 'cancelled', false) as is_cancelled,
        coalesce(latest_change.status = 'returned', false) as is_returned,
        orders_in_window.order_date,
        cast(latest_change.changed_at as date) as status_changed_date,
        orders_in_window.partition_date,
        orders_in_window.created_at,
        latest_change.changed_at as status_changed_at
    from orders_in_window
    left join latest_change
        on
            orders_in_window.order_id = latest_change.order_id
            and latest_change.change_rank = 1
)

select * from final
