{#- Every product event of the clickstream with the product it belongs to. Trackers log the tile click that opens
    a product page and the scrolls of a product page without a product id: a click takes the product of the
    product view that follows it in the session, a scroll the product of the product view before it (both are
    window functions over the session's events in sequence order). A product view's dwell time is the time to the
    session's next event, capped at `ecom__dwell_cap_seconds` (a tab left open is not attention); the last event
    of a session has no next event, so its dwell time is null (unknown, not zero).
    Incremental: a refresh rebuilds the events from the rebuild cutoff on (macros/incremental.sql). A session's
    events all sit in the lake partition of the day it started (`partition_date`) and a session crosses at most one
    midnight, so reading the partitions from the day before the cutoff gives every event from the cutoff on its
    whole session, and the window functions see the same neighbours as in a full build. -#}
{{ config(materialized='incremental', unique_key='event_id', partition_by=day_partition('event_date'),
    pre_hook="{{ clear_rebuild_window('event_date') }}") }}

with

events as (
    select * from {{ ref('stg_lake__user_events') }}
    where {{ incremental_window('partition_date', this_column='event_date', extra_days=1) }}
),

with_neighbours as (
    select
        event_id,
        session_id,
        user_id,
        event_type,
        product_id,
        event_date,
        event_at,
        lag(event_type) over (partition by session_id order by sequence_number) as previous_event_type,
        lag(product_id) over (partition by session_id order by sequence_number) as previous_product_id,
        lead(event_type) over (partition by session_id order by sequence_number) as next_event_type,
        lead(product_id) over (partition by session_id order by sequence_number) as next_product_id,
        lead(event_at) over (partition by session_id order by sequence_number) as next_event_at
    from events
),

inferred as (
    select
        event_id,
        session_id,
        user_id,
        event_type,
        event_date,
        event_at,
        next_event_at,
        case
            when product_id is not null then product_id
            when event_type = 'click' and next_event_type = 'product_view' then next_product_id
            when event_type = 'scroll' and previous_event_type = 'product_view' then previous_product_id
        end as product_id,
        product_id is null as is_inferred
    from with_neighbours
    where
        product_id is not null
        or event_type in ('click', 'scroll')
),

final as (
    select
        event_id,
        session_id,
        user_id,
        product_id,
        event_type,
        case
            when event_type = 'product_view' and next_event_at is not null
                then least(
                    cast({{ dbt.datediff('event_at', 'next_event_at', 'second') }} as {{ type_double() }}),  -- noqa: LT05
                    cast({{ var('ecom__dwell_cap_seconds') }} as {{ type_double() }})
                )
        end as dwell_seconds,
        is_inferred,
        event_date,
        event_at
    from inferred
    where {{ incremental_window('event_date') }}
)

select * from final
