with

source as (
    select * from {{ source('lake', 'user_events') }}
),

renamed as (
    select
        event_id,
        session_id,
        user_id,
        product_id,
        order_id,
        event_type,
        device,
        traffic_source as channel,
        page,
        quantity,
        sequence_number,
        cast(event_at as date) as event_date,
        cast(dt as date) as partition_date,
        cast(event_at as timestamp) as event_at
    from source
)

select * from renamed
