with

orders as (
    select * from {{ ref('int_orders_enriched') }}
),

sequenced as (
    select
        order_id,
        user_id,
        order_status,
        order_total,
        net_revenue,
        is_cancelled,
        row_number() over (partition by user_id order by created_at, order_id) as user_order_number,
        lag(order_date) over (partition by user_id order by created_at, order_id) as previous_order_date,
        order_date,
        created_at
    from orders
),

final as (
    select
        order_id,
        user_id,
        order_status,
        user_order_number,
        order_total,
        net_revenue,
        {{ dbt.datediff('previous_order_date', 'order_date', 'day') }} as days_since_previous_order,  -- noqa: LT05
        user_order_number = 1 as is_first_order,
        is_cancelled,
        order_date,
        previous_order_date,
        created_at
    from sequenced
)

select * from final
