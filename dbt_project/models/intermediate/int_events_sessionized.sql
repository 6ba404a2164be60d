{{ config(materialized='incremental', unique_key='session_id', partition_by=day_partition('partition_date'),
    pre_hook="{{ clear_rebuild_window('partition_date') }}") }}

with

events as (
    select * from {{ ref('stg_lake__user_events') }}
    where {{ incremental_window('partition_date') }}
),

promo_days as (
    select * from {{ ref('int_promo_days') }}
),

staged_events as (
    select
        session_id,
        user_id,
        event_type,
        channel,
        device,
        sequence_number,
        event_at,
        partition_date,
        case event_type
            when 'product_view' then 1
            when 'add_to_cart' then 2
            when 'checkout' then 3
            when 'purchase' then 4
            else 0
        end as stage_number,
        row_number() over (partition by session_id order by sequence_number, event_at) as event_rank
    from events
),

sessions as (
    select
        session_id,
        max(user_id) as user_id,
        max(case when event_rank = 1 then channel end) as entry_channel,
        max(case when event_rank = 1 then device end) as entry_device,
        count(*) as events,
        count(*) filter (where event_type = 'page_view') as page_views,
        count(*) filter (where event_type = 'product_view') as product_views,
        count(*) filter (where event_type = 'add_to_cart') as cart_adds,
        count(*) filter (where event_type = 'remove_from_cart') as cart_removes,
        count(*) filter (where event_type = 'checkout') as checkouts,
        count(*) filter (where event_type = 'purchase') as purchases,
        max(stage_number) as furthest_stage_number,
        min(sequence_number) filter (where event_type = 'checkout') as first_checkout_sequence,
        min(sequence_number) filter (where event_type = 'purchase') as first_purchase_sequence,
        min(partition_date) as partition_date,
        min(event_at) as started_at,
        max(event_at) as ended_at
    from staged_events
    group by session_id
),

with_stage as (
    select
        *,
        case furthest_stage_number
            when 4 then 'purchase'
            when 3 then 'checkout'
            when 2 then 'cart'
            when 1 then 'view'
            else 'bounce'
        end as furthest_stage,
        cast(started_at as date) as session_date,
        cast(extract(hour from started_at) as integer) as session_hour,
        cast({{ iso_weekday('started_at') }} as integer) as session_weekday,
        {{ dbt.datediff('started_at', 'ended_at', 'second') }} as duration_seconds
    from sessions
),

final as (
    select
        with_stage.session_id,
        with_stage.user_id,
        with_stage.entry_channel,
        with_stage.entry_device,
        with_stage.furthest_stage,
        coalesce(promo_days.promo_period, 'regular') as promo_period,
        promo_days.promotion_name,
        with_stage.furthest_stage_number,
        with_stage.events,
        with_stage.page_views,
        with_stage.product_views,
        with_stage.cart_adds,
        with_stage.cart_removes,
        with_stage.checkouts,
        with_stage.purchases,
        with_stage.first_checkout_sequence,
        with_stage.first_purchase_sequence,
        with_stage.session_hour,
        with_stage.session_weekday,
        with_stage.duration_seconds,
        with_stage.furthest_stage_number >= 1 as reached_view,
        with_stage.furthest_stage_number >= 2 as reached_cart,
        with_stage.furthest_stage_number >= 3 as reached_checkout,
        with_stage.furthest_stage_number >= 4 as reached_purchase,
        with_stage.furthest_stage_number = 2 or with_stage.furthest_stage_number = 3 as is_cart_abandoned,
        with_stage.furthest_stage_number = 3 as is_checkout_abandoned,
        coalesce(promo_days.promo_period = 'sale', false) as is_sale_day,
        with_stage.session_date,
        with_stage.partition_date,
        with_stage.started_at,
        with_stage.ended_at,
        -- the dbt run that (re)built the row: the clickstream tests audit the days this run rebuilt
        '{{ invocation_id }}' as dbt_invocation_id
    from with_stage
    left join promo_days on with_stage.session_date = promo_days.promo_date
)

select * from final
