{#- RFM over completed orders (not cancelled). Scores are percent-rank quintiles: tied values share a score,
    score = 1 + floor(5 * (rank - 1) / (customers - 1)), capped at 5, where rank counts from the worst value. -#}
with

orders as (
    select * from {{ ref('int_orders_enriched') }}
),

as_of as (
    select max(order_date) as as_of_date
    from orders
),

customers as (
    select
        user_id,
        count(*) as frequency,
        sum(net_revenue) as monetary,
        max(order_date) as last_order_date
    from orders
    where not is_cancelled
    group by user_id
),

with_recency as (
    select
        customers.*,
        as_of.as_of_date,
        cast({{ dbt.datediff('customers.last_order_date', 'as_of.as_of_date', 'day') }} as bigint) as recency_days  -- noqa: LT05
    from customers
    cross join as_of
),

ranked as (
    select
        *,
        rank() over (order by recency_days desc) as recency_rank,
        rank() over (order by frequency asc) as frequency_rank,
        rank() over (order by monetary asc) as monetary_rank,
        count(*) over () as customers
    from with_recency
),

scored as (
    select
        *,
        {{ rfm_score('recency_rank', 'customers') }} as recency_score,
        {{ rfm_score('frequency_rank', 'customers') }} as frequency_score,
        {{ rfm_score('monetary_rank', 'customers') }} as monetary_score
    from ranked
),

segmented as (
    select
        *,
        cast(floor((frequency_score + monetary_score + 1) / 2.0) as integer) as fm_score
    from scored
),

named as (
    select
        *,
        {{ rfm_segment_name('recency_score', 'fm_score') }} as segment_name
    from segmented
),

final as (
    select
        user_id,
        {{ dbt.concat([
            dbt.cast('recency_score', dbt.type_string()),
            dbt.cast('frequency_score', dbt.type_string()),
            dbt.cast('monetary_score', dbt.type_string()),
        ]) }} as rfm_code,
        segment_name,
        recency_days,
        frequency,
        cast(monetary as decimal(14, 2)) as monetary,
        recency_score,
        frequency_score,
        monetary_score,
        fm_score,
        count(*) over (partition by segment_name) as segment_customers,
        {{ ratio('count(*) over (partition by segment_name)', 'count(*) over ()') }} as segment_customer_share,
        cast(sum(monetary) over (partition by segment_name) as decimal(14, 2)) as segment_revenue,
        {{ ratio('sum(monetary) over (partition by segment_name)', 'sum(monetary) over ()') }} as segment_revenue_share,
        last_order_date,
        as_of_date
    from named
)

select * from final
