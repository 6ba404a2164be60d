{#- Product performance by day. The popularity score weighs what shoppers do with a product: 1 per view, 5 per
    cart add, 20 per purchase (an order line), so a purchase counts as much as twenty views. The ABC class ranks
    products by their revenue over the whole history: A are the products that together make the first 80% of
    revenue (from the best-selling down), B the next 15%, C the rest (including products never sold). -#}
with

product_events as (
    select * from {{ ref('int_product_events_inferred') }}
),

order_lines as (
    select * from {{ ref('int_order_items_enriched') }}
),

orders as (
    select * from {{ ref('int_orders_enriched') }}
),

products as (
    select * from {{ ref('stg_lake__products') }}
),

events_by_day as (
    select
        product_id,
        event_date as performance_date,
        count(case when event_type = 'product_view' then 1 end) as views,  -- noqa: RF04
        sum(case when event_type = 'product_view' then dwell_seconds end) as dwell_seconds,
        count(case when event_type = 'product_view' then dwell_seconds end) as timed_views,
        count(case when event_type = 'add_to_cart' then 1 end) as cart_adds
    from product_events
    where product_id is not null
    group by product_id, event_date
),

lines_by_day as (
    select
        order_lines.product_id,
        order_lines.order_date as performance_date,
        count(*) as purchases,
        sum(order_lines.quantity) as units,
        sum(order_lines.line_revenue) as revenue,
        count(case when orders.order_status = 'returned' then 1 end) as returned_purchases
    from order_lines
    inner join orders on order_lines.order_id = orders.order_id
    group by order_lines.product_id, order_lines.order_date
),

product_days as (
    select
        product_id,
        performance_date
    from events_by_day
    union
    select
        product_id,
        performance_date
    from lines_by_day
),

joined as (
    select
        product_days.product_id,
        products.product_name,
        products.brand,
        products.category,
        product_days.performance_date,
        coalesce(events_by_day.views, 0) as views,  -- noqa: RF04
        coalesce(events_by_day.cart_adds, 0) as cart_adds,
        coalesce(lines_by_day.purchases, 0) as purchases,
        cast(coalesce(lines_by_day.units, 0) as bigint) as units,
        coalesce(lines_by_day.returned_purchases, 0) as returned_purchases,
        cast(coalesce(lines_by_day.revenue, 0) as decimal(14, 2)) as revenue,
        events_by_day.dwell_seconds,
        events_by_day.timed_views
    from product_days
    left join events_by_day
        on
            product_days.product_id = events_by_day.product_id
            and product_days.performance_date = events_by_day.performance_date
    left join lines_by_day
        on
            product_days.product_id = lines_by_day.product_id
            and product_days.performance_date = lines_by_day.performance_date
    left join products
        on
            product_days.product_id = products.product_id
            and product_days.performance_date = products.price_date
),

product_revenue as (
    select
        product_id,
        sum(revenue) as total_revenue
    from joined
    group by product_id
),

revenue_ranked as (
    select
        product_id,
        sum(total_revenue) over (
            order by total_revenue desc, product_id asc rows between unbounded preceding and 1 preceding
        ) as revenue_before,
        sum(total_revenue) over () as all_revenue
    from product_revenue
),

abc as (
    select
        product_id,
        case
            when all_revenue = 0 then 'C'
            when coalesce(revenue_before, 0) < 0.80 * all_revenue then 'A'
            when coalesce(revenue_before, 0) < 0.95 * all_revenue then 'B'
            else 'C'
        end as abc_class
    from revenue_ranked
),

final as (
    select
        joined.product_id,
        joined.product_name,
        joined.brand,
        joined.category,
        abc.abc_class,
        joined.views,
        joined.cart_adds,
        joined.purchases,
        joined.units,
        joined.returned_purchases,
        joined.revenue,
        cast(coalesce(joined.dwell_seconds, 0) as {{ type_double() }}) as dwell_seconds,
        {{ ratio('joined.dwell_seconds', 'joined.timed_views') }} as average_dwell_seconds,
        {{ ratio('joined.purchases', 'joined.views') }} as conversion_rate,
        {{ ratio('joined.returned_purchases', 'joined.purchases') }} as return_rate,
        cast(joined.views + 5 * joined.cart_adds + 20 * joined.purchases as bigint) as popularity_score,
        joined.performance_date
    from joined
    inner join abc on joined.product_id = abc.product_id
)

select * from final
