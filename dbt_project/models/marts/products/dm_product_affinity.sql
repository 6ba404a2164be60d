{#- Item-to-item affinity: "bought together" over orders (baskets) and "viewed together" over sessions that view
    products. Directed pairs: a -> b and b -> a are both rows (same support and lift, their own confidence).
    support: baskets holding both; confidence: support / baskets holding the product; lift: confidence / the
    share of baskets holding the related product (1 = independent). Pairs with fewer than
    `ecom__affinity_min_support` baskets together are left out: below it a lift is mostly noise.
    The counts are the sums of each basket day's counts (int_product_pairs_daily, incremental by day), so a refresh
    sums a compact daily table instead of pairing every basket of the history again. -#}
with

daily_pairs as (
    select * from {{ ref('int_product_pairs_daily') }}
),

products as (
    select * from {{ ref('stg_lake__products') }}
),

day_totals as (
    select distinct
        kind,
        basket_date,
        day_baskets
    from daily_pairs
),

basket_totals as (
    select
        kind,
        cast(sum(day_baskets) as bigint) as baskets
    from day_totals
    group by kind
),

item_counts as (
    select
        kind,
        product_id,
        cast(sum(baskets) as bigint) as item_baskets
    from daily_pairs
    where product_id = related_product_id
    group by kind, product_id
),

pairs as (
    select
        kind,
        product_id,
        related_product_id,
        cast(sum(baskets) as bigint) as support  -- noqa: RF04
    from daily_pairs
    where product_id != related_product_id
    group by kind, product_id, related_product_id
    having sum(baskets) >= {{ var('ecom__affinity_min_support') }}
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
