with

source as (
    select * from {{ source('lake', 'orders') }}
),

renamed as (
    select
        order_id,
        user_id,
        session_id,
        status as initial_status,
        payment_method,
        shipping_method,
        item_count,
        cast(subtotal_amount as decimal(12, 2)) as subtotal_amount,
        cast(discount_amount as decimal(12, 2)) as discount_amount,
        cast(order_total as decimal(12, 2)) as order_total,
        cast(shipping_cost as decimal(12, 2)) as shipping_cost,
        cast(created_at as date) as order_date,
        cast(dt as date) as partition_date,
        cast(created_at as timestamp) as created_at
    from source
)

select * from renamed
