{#- Order lines with their product's category and their share of the order discount, so that line revenue
    adds up to the order total to the cent (the rounding remainder goes to the order's largest line). -#}
{{ config(materialized='incremental', unique_key='order_item_id', partition_by=day_partition('partition_date'),
    pre_hook="{{ clear_rebuild_window('partition_date') }}") }}

with

order_items as (
    select * from {{ ref('stg_lake__order_items') }}
    where {{ incremental_window('partition_date') }}
),

orders as (
    select * from {{ ref('stg_lake__orders') }}
    where {{ incremental_window('partition_date', 'partition_date') }}
),

products as (
    select * from {{ ref('stg_lake__products') }}
    where {{ incremental_window('price_date', 'partition_date') }}
),

lines as (
    select
        order_items.order_item_id,
        order_items.order_id,
        order_items.product_id,
        products.category,
        products.department,
        order_items.quantity,
        order_items.unit_price,
        order_items.line_total,
        orders.discount_amount,
        orders.order_date,
        order_items.partition_date,
        {{ money_share('orders.discount_amount', 'order_items.line_total', 'orders.subtotal_amount') }}
            as proportional_discount,
        row_number() over (
            partition by order_items.order_id order by order_items.line_total desc, order_items.order_item_id asc
        ) as line_rank
    from order_items
    inner join orders on order_items.order_id = orders.order_id
    left join products
        on
            order_items.product_id = products.product_id
            and order_items.partition_date = products.price_date
),

allocated as (
    select
        *,
        case
            when line_rank = 1
                then
                    discount_amount
                    - sum(coalesce(proportional_discount, 0)) over (partition by order_id)
                    + coalesce(proportional_discount, 0)
            else coalesce(proportional_discount, 0)
        end as discount_allocated
    from lines
),

final as (
    select
        order_item_id,
        order_id,
        product_id,
        category,
        department,
        quantity,
        unit_price,
        line_total,
        cast(discount_allocated as decimal(12, 2)) as discount_allocated,
        cast(line_total - discount_allocated as decimal(12, 2)) as line_revenue,
        order_date,
        partition_date
    from allocated
)

select * from final
