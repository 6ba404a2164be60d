with

source as (
    select * from {{ source('lake', 'order_items') }}
),

renamed as (
    select
        order_item_id,
        order_id,
        product_id,
        quantity,
        cast(unit_price as decimal(12, 2)) as unit_price,
        cast(line_total as decimal(12, 2)) as line_total,
        cast(dt as date) as partition_date
    from source
)

select * from renamed
