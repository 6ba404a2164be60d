with

events as (
    select * from {{ ref('stg_lake__user_events') }}
),

promotions as (
    select * from {{ ref('promotions') }}
),

sessions as (
    select
        session_id,
        max(user_id) as user_id,
        any_value(channel) as channel,
        any_value(device) as device,
        count(*) as events,
        count(*) filter (where event_type = 'product_view') as product_views,
        count(*) filter (where event_type = 'add_to_cart') as cart_adds,
        count(*) filter (where event_type = 'purchase') as purchases,
        count(*) filter (where event_type = 'product_view') > 0 as has_product_view,
        count(*) filter (where event_type = 'add_to_cart') > 0 as has_cart,
        count(*) filter (where event_type = 'checkout') > 0 as has_checkout,
        count(*) filter (where event_type = 'purchase') > 0 as has_purchase,
        min(event_at) as started_at,
        max(event_at) as ended_at
    from events
    group by session_id
),

with_stage as (
    select
        *,
        cast(started_at as date) as session_date,
        {{ dbt.datediff('started_at', 'ended_at', 'second') }} as duration_seconds,
        case
            when has_purchase then 'purchase'
            when has_checkout then 'checkout'
            when has_cart then 'cart'
            when has_product_view then 'view'
            else 'bounce'
        end as furthest_stage
    from sessions
),

with_sale_flag as (
    select
        with_stage.*,
        promotions.promotion_name is not null as is_sale_day
    from with_stage
    left join promotions
        on with_stage.session_date between promotions.start_date and promotions.end_date
)

select * from with_sale_flag
