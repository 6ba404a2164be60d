{#- Every day that has orders must have the rest of the day in the lake: a missing partition (e.g. a day of
    orders without its clickstream) silently skews every rate computed from it. -#}
with

order_days as (
    select distinct partition_date from {{ ref('stg_lake__orders') }}
),

event_days as (
    select distinct partition_date from {{ ref('stg_lake__user_events') }}
),

item_days as (
    select distinct partition_date from {{ ref('stg_lake__order_items') }}
),

user_days as (
    select distinct partition_date from {{ ref('stg_lake__users') }}
),

product_days as (
    select distinct price_date as partition_date from {{ ref('stg_lake__products') }}
),

checks as (
    select order_days.partition_date, 'user_events' as missing_table
    from order_days
    left join event_days on order_days.partition_date = event_days.partition_date
    where event_days.partition_date is null
    union all
    select order_days.partition_date, 'order_items' as missing_table
    from order_days
    left join item_days on order_days.partition_date = item_days.partition_date
    where item_days.partition_date is null
    union all
    select order_days.partition_date, 'users' as missing_table
    from order_days
    left join user_days on order_days.partition_date = user_days.partition_date
    where user_days.partition_date is null
    union all
    select order_days.partition_date, 'products' as missing_table
    from order_days
    left join product_days on order_days.partition_date = product_days.partition_date
    where product_days.partition_date is null
)

select * from checks
