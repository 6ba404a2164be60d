{#- Product views, cart adds and removals per category and day, from the clickstream. -#}
{{ config(materialized='incremental', unique_key='activity_date', partition_by=day_partition('activity_date'),
    pre_hook="{{ clear_rebuild_window('activity_date') }}") }}

with

events as (
    select * from {{ ref('stg_lake__user_events') }}
    where
        {{ incremental_window('partition_date', 'activity_date') }}
        and event_type in ('product_view', 'add_to_cart', 'remove_from_cart')
),

products as (
    select * from {{ ref('stg_lake__products') }}
    where {{ incremental_window('price_date', 'activity_date') }}
),

final as (
    select
        products.category,
        products.department,
        count(*) filter (where events.event_type = 'product_view') as product_views,
        count(*) filter (where events.event_type = 'add_to_cart') as cart_adds,
        count(*) filter (where events.event_type = 'remove_from_cart') as cart_removes,
        events.partition_date as activity_date
    from events
    inner join products
        on
            events.product_id = products.product_id
            and events.partition_date = products.price_date
    group by products.category, products.department, events.partition_date
)

select * from final
