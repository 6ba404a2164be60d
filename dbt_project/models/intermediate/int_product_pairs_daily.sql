{#- The affinity counts of each basket day, which dm_product_affinity sums over the whole history: per kind
    (bought_together over orders, viewed_together over sessions' product views), per directed pair of products,
    the baskets of the day holding both. The diagonal (product_id = related_product_id) holds the baskets of the
    day holding the product, and every row carries the day's basket count of its kind (`day_baskets`).
    A basket belongs to one day, so summing the days gives the same counts as pairing the whole history at once.
    An order's day is its lake partition (its lines never change: a late status change is a row of
    `order_status_changes`, and the affinity counts every order as placed). A session's day is the day of its
    first product view: its events all sit in the lake partition of the day it started, and a session crosses at
    most one midnight, so reading the product events from the day before the rebuild cutoff gives every session of
    the window all its views.
    Incremental: a refresh rebuilds the basket days from the rebuild cutoff on (macros/incremental.sql). -#}
{{ config(materialized='incremental', unique_key='basket_date', partition_by=day_partition('basket_date'),
    pre_hook="{{ clear_rebuild_window('basket_date') }}") }}

with

order_lines as (
    select * from {{ ref('int_order_items_enriched') }}
    where {{ incremental_window('partition_date', this_column='basket_date') }}
),

product_events as (
    select * from {{ ref('int_product_events_inferred') }}
    where
        {{ incremental_window('event_date', this_column='basket_date', extra_days=1) }}
        and event_type = 'product_view'
),

session_views as (
    select
        session_id,
        product_id,
        min(event_date) over (partition by session_id) as basket_date
    from product_events
),

baskets as (
    select distinct
        'bought_together' as kind,
        order_id as basket_id,
        product_id,
        partition_date as basket_date
    from order_lines
    union all
    select distinct
        'viewed_together' as kind,
        session_id as basket_id,
        product_id,
        basket_date
    from session_views
    where {{ incremental_window('basket_date') }}
),

day_totals as (
    select
        kind,
        basket_date,
        count(distinct basket_id) as day_baskets
    from baskets
    group by kind, basket_date
),

pairs as (
    select
        left_side.kind,
        left_side.basket_date,
        left_side.product_id,
        right_side.product_id as related_product_id,
        count(*) as baskets
    from baskets as left_side
    inner join baskets as right_side
        on
            left_side.kind = right_side.kind
            and left_side.basket_id = right_side.basket_id
    group by left_side.kind, left_side.basket_date, left_side.product_id, right_side.product_id
),

final as (
    select
        pairs.kind,
        pairs.product_id,
        pairs.related_product_id,
        cast(pairs.baskets as bigint) as baskets,
        cast(day_totals.day_baskets as bigint) as day_baskets,
        pairs.basket_date
    from pairs
    inner join day_totals
        on pairs.kind = day_totals.kind and pairs.basket_date = day_totals.basket_date
)

select * from final
