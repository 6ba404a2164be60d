with

users as (
    select * from {{ ref('stg_lake__users') }}
),

orders as (
    select * from {{ ref('int_user_orders_sequenced') }}
),

order_items as (
    select * from {{ ref('int_order_items_enriched') }}
),

order_totals as (
    select
        user_id,
        count(*) as orders,
        count(*) filter (where order_status = 'cancelled') as cancelled_orders,
        count(*) filter (where order_status = 'returned') as returned_orders,
        sum(order_total) as gross_revenue,
        sum(net_revenue) as net_revenue,
        avg(days_since_previous_order) as average_days_between_orders,
        min(order_date) as first_order_date,
        max(order_date) as last_order_date,
        min(created_at) as first_order_at,
        max(created_at) as last_order_at
    from orders
    group by user_id
),

category_units as (
    select
        orders.user_id,
        order_items.category,
        sum(order_items.quantity) as units,
        sum(order_items.line_revenue) as revenue
    from order_items
    inner join orders on order_items.order_id = orders.order_id
    group by orders.user_id, order_items.category
),

preferred_category as (
    select
        user_id,
        category,
        row_number() over (partition by user_id order by units desc, revenue desc, category asc) as category_rank
    from category_units
),

items_bought as (
    select
        user_id,
        cast(sum(units) as bigint) as items
    from category_units
    group by user_id
),

final as (
    select
        users.user_id,
        users.acquisition_channel,
        users.region,
        preferred_category.category as preferred_category,
        coalesce(order_totals.orders, 0) as orders,
        coalesce(order_totals.cancelled_orders, 0) as cancelled_orders,
        coalesce(order_totals.returned_orders, 0) as returned_orders,
        coalesce(items_bought.items, 0) as items,
        cast(coalesce(order_totals.gross_revenue, 0) as decimal(14, 2)) as gross_revenue,
        cast(coalesce(order_totals.net_revenue, 0) as decimal(14, 2)) as net_revenue,
        {{ money_per('order_totals.gross_revenue', 'order_totals.orders') }} as average_order_value,
        cast(coalesce(order_totals.net_revenue, 0) as decimal(14, 2)) as lifetime_value,
        cast(order_totals.average_days_between_orders as {{ type_double() }}) as average_days_between_orders,
        coalesce(order_totals.orders, 0) > 0 as is_buyer,
        coalesce(order_totals.orders, 0) > 1 as is_repeat_buyer,
        users.signup_date,
        order_totals.first_order_date,
        order_totals.last_order_date,
        users.signup_at,
        order_totals.first_order_at,
        order_totals.last_order_at
    from users
    left join order_totals on users.user_id = order_totals.user_id
    left join items_bought on users.user_id = items_bought.user_id
    left join preferred_category
        on
            users.user_id = preferred_category.user_id
            and preferred_category.category_rank = 1
)

select * from final
