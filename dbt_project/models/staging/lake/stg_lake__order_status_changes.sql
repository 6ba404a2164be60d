with

source as (
    select * from {{ source('lake', 'order_status_changes') }}
),

renamed as (
    select
        order_id,
        status,
        cast(changed_at as date) as changed_date,
        cast(dt as date) as partition_date,
        cast(changed_at as timestamp) as changed_at
    from source
)

select * from renamed
