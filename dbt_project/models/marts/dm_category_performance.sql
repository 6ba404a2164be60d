{#- Revenue is attributed to the day the order was placed; net revenue and returns follow the order's state
    after late cancellations and returns. Growth compares trailing windows, so single noisy days do not dominate. -#}
with

order_items as (
    select * from {{ ref('int_order_items_enriched') }}
),

orders as (
    select * from {{ ref('int_orders_enriched') }}
),

category_events as (
    select * from {{ ref('int_category_events_aggregated') }}
),

sessions as (
    select * from {{ ref('int_events_sessionized') }}
),

days as (
    select distinct session_date as performance_date
    from sessions
),

categories as (
    select
        category,
        max(department) as department
    from (
        select
            category,
            department
        from category_events
        union all
        select
            category,
            department
        from order_items
    ) as seen
    where category is not null
    group by category
),

sales as (
    select
        order_items.category,
        order_items.order_date as performance_date,
        count(distinct order_items.order_id) as orders,
        count(*) as purchases,
        cast(sum(order_items.quantity) as bigint) as units,
        sum(order_items.line_revenue) as revenue,
        sum(case when orders.order_status = 'placed' then order_items.line_revenue else 0 end) as net_revenue,
        cast(sum(case when orders.is_returned then order_items.quantity else 0 end) as bigint) as returned_units
    from order_items
    inner join orders on order_items.order_id = orders.order_id
    group by order_items.category, order_items.order_date
),

grid as (
    select
        categories.category,
        categories.department,
        days.performance_date
    from categories
    cross join days
),

daily as (
    select
        grid.category,
        grid.department,
        coalesce(sales.orders, 0) as orders,
        coalesce(sales.purchases, 0) as purchases,
        coalesce(sales.units, 0) as units,
        coalesce(sales.returned_units, 0) as returned_units,
        coalesce(category_events.product_views, 0) as product_views,
        coalesce(category_events.cart_adds, 0) as cart_adds,
        cast(coalesce(sales.revenue, 0) as decimal(14, 2)) as revenue,
        cast(coalesce(sales.net_revenue, 0) as decimal(14, 2)) as net_revenue,
        grid.performance_date
    from grid
    left join sales
        on
            grid.category = sales.category
            and grid.performance_date = sales.performance_date
    left join category_events
        on
            grid.category = category_events.category
            and grid.performance_date = category_events.activity_date
),

windowed as (
    select
        *,
        sum(revenue) over (partition by performance_date) as day_revenue,
        sum(revenue) over (
            partition by category order by performance_date rows between 6 preceding and current row
        ) as revenue_7d,
        sum(revenue) over (
            partition by category order by performance_date rows between 13 preceding and 7 preceding
        ) as revenue_prior_7d,
        sum(revenue) over (
            partition by category order by performance_date rows between 27 preceding and current row
        ) as revenue_28d,
        sum(revenue) over (
            partition by category order by performance_date rows between 55 preceding and 28 preceding
        ) as revenue_prior_28d,
        row_number() over (partition by category order by performance_date) as day_number
    from daily
),

final as (
    select
        category,
        department,
        orders,
        units,
        purchases,
        product_views,
        cart_adds,
        returned_units,
        revenue,
        net_revenue,
        {{ money_per('revenue', 'orders') }} as average_order_value,
        {{ ratio('revenue', 'day_revenue') }} as revenue_share,
        cast(revenue_7d as decimal(14, 2)) as revenue_7d,
        case when day_number >= 14 then {{ ratio('revenue_7d - revenue_prior_7d', 'revenue_prior_7d') }} end
            as revenue_wow_growth,
        cast(revenue_28d as decimal(14, 2)) as revenue_28d,
        case when day_number >= 56 then {{ ratio('revenue_28d - revenue_prior_28d', 'revenue_prior_28d') }} end
            as revenue_mom_growth,
        {{ ratio('cart_adds', 'product_views') }} as view_to_cart_rate,
        {{ ratio('purchases', 'cart_adds') }} as cart_to_purchase_rate,
        {{ ratio('purchases', 'product_views') }} as view_to_purchase_rate,
        {{ ratio('returned_units', 'units') }} as return_rate,
        performance_date
    from windowed
)

select * from final
