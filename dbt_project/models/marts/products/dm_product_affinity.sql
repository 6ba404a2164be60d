{#- Item-to-item affinity: "bought together" over orders (baskets) and "viewed together" over sessions that view
    products. Directed pairs: a -> b and b -> a are both rows (same support and lift, their own confidence).
    support: baskets holding both; confidence: support / baskets holding the product; lift: confidence / the
    share of baskets holding the related product (1 = independent). Pairs with fewer than
    `ecom__affinity_min_support` baskets together are left out: below it a lift is mostly noise. -#}
with

order_lines as (
    select * from {{ ref('int_order_items_enriched') }}
),

product_events as (
    select * from {{ ref('int_product_events_inferred') }}
),

products as (
    select * from {{ ref('stg_lake__products') }}
),

baskets as (
    select distinct
        'bought_together' as kind,
        order_id as basket_id,
        product_id
    from order_lines
    union all
    select distinct
        'viewed_together' as kind,
        session_id as basket_id,
        product_id
    from product_events
    where event_type = 'product_view'
),

basket_totals as (
    select
        kind,
        count(distinct basket_id) as baskets
    from baskets
    group by kind
),

item_counts as (
    select
        kind,
        product_id,
        count(*) as item_baskets
    from baskets
    group by kind, product_id
),

pairs as (
    select
        left_side.kind,
        left_side.product_id,
        right_side.product_id as related_product_id,
        count(*) as support  -- noqa: RF04
    from baskets as left_side
    inner join baskets as right_side
        on
            left_side.kind = right_side.kind
            and left_side.basket_id = right_side.basket_id
            and left_side.product_id != right_side.product_id
    group by left_side.kind, left_side.product_id, right_side.product_id
    having count(*) >= {{ var('ecom__affinity_min_support') }}
),

latest_names as (
    select
        product_id,
        product_name,
        row_number() over (partition by product_id order by price_date desc) as snapshot_rank
    from products
),

scored as (
    select
        pairs.kind,
        pairs.product_id,
        pairs.related_product_id,
        pairs.support,
        {{ ratio('pairs.support', 'basket_totals.baskets') }} as support_share,
        {{ ratio('pairs.support', 'item_of_product.item_baskets') }} as confidence,
        ({{ ratio('pairs.support', 'item_of_product.item_baskets') }})
        / ({{ ratio('item_of_related.item_baskets', 'basket_totals.baskets') }}) as lift
    from pairs
    inner join basket_totals on pairs.kind = basket_totals.kind
    inner join item_counts as item_of_product
        on pairs.kind = item_of_product.kind and pairs.product_id = item_of_product.product_id
    inner join item_counts as item_of_related
        on pairs.kind = item_of_related.kind and pairs.related_product_id = item_of_related.product_id
),

final as (
    select
        scored.kind,
        cast(scored.product_id as integer) as product_id,
        cast(scored.related_product_id as integer) as related_product_id,
        product_names.product_name,
        related_names.product_name as related_product_name,
        cast(scored.support as bigint) as support,  -- noqa: RF04
        scored.support_share,
        scored.confidence,
        scored.lift,
        cast(row_number() over (
            partition by scored.kind, scored.product_id
            order by scored.lift desc, scored.support desc, scored.related_product_id asc
        ) as integer) as rank
    from scored
    left join latest_names as product_names
        on scored.product_id = product_names.product_id and product_names.snapshot_rank = 1
    left join latest_names as related_names
        on scored.related_product_id = related_names.product_id and related_names.snapshot_rank = 1
)

select * from final
