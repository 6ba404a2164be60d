{{ config(materialized='incremental', unique_key='funnel_date', partition_by=day_partition('funnel_date'),
    pre_hook="{{ clear_rebuild_window('funnel_date') }}") }}

with

sessions as (
    select * from {{ ref('int_events_sessionized') }}
    where {{ incremental_window('session_date', 'funnel_date') }}
),

stages as (
    select
        'view' as stage,  -- noqa: RF04
        1 as stage_number
    union all
    select
        'cart' as stage,  -- noqa: RF04
        2 as stage_number
    union all
    select
        'checkout' as stage,  -- noqa: RF04
        3 as stage_number
    union all
    select
        'purchase' as stage,  -- noqa: RF04
        4 as stage_number
),

cells as (
    select
        session_date as funnel_date,
        entry_channel as channel,
        entry_device as device,
        promo_period,
        count(*) as sessions,
        count(*) filter (where furthest_stage_number >= 1) as view_sessions,
        count(*) filter (where furthest_stage_number >= 2) as cart_sessions,
        count(*) filter (where furthest_stage_number >= 3) as checkout_sessions,
        count(*) filter (where furthest_stage_number >= 4) as purchase_sessions
    from sessions
    group by session_date, entry_channel, entry_device, promo_period
),

by_stage as (
    select
        cells.channel,
        cells.device,
        stages.stage,
        cells.promo_period,
        stages.stage_number,
        cells.sessions,
        case stages.stage_number
            when 1 then cells.view_sessions
            when 2 then cells.cart_sessions
            when 3 then cells.checkout_sessions
            else cells.purchase_sessions
        end as sessions_reached,
        case stages.stage_number
            when 1 then cells.sessions
            when 2 then cells.view_sessions
            when 3 then cells.cart_sessions
            else cells.checkout_sessions
        end as previous_stage_sessions,
        cells.funnel_date
    from cells
    cross join stages
),

final as (
    select
        channel,
        device,
        stage,
        promo_period,
        stage_number,
        sessions,
        sessions_reached,
        previous_stage_sessions,
        previous_stage_sessions - sessions_reached as drop_off_sessions,
        {{ ratio('sessions_reached', 'previous_stage_sessions') }} as step_conversion_rate,
        {{ ratio('previous_stage_sessions - sessions_reached', 'previous_stage_sessions') }} as drop_off_rate,
        {{ ratio('sessions_reached', 'sessions') }} as overall_conversion_rate,
        promo_period = 'sale' as is_sale_day,
        funnel_date
    from by_stage
)

select * from final
