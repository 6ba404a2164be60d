{#- One row per day inside a promo window: the sale itself, the week before (pre_sale) and the week after
    (post_sale). Where windows overlap the sale wins, then the pre-sale, as in generator/calendar.py.
    Only the sales of the lake's market (`ecom__market`, which the pipeline sets from the lake's _lake.json). -#}
{%- set window_days = var("ecom__promo_window_days") -%}
{%- set market = var("ecom__market", env_var("ECOM_MARKET", "us")) -%}

with

promotions as (
    select * from {{ ref('promotions') }}
    where market = '{{ market }}'
),

offsets as (
    {{ dbt.generate_series(64) }}
),

window_days as (
    select
        promotions.promotion_name,
        promotions.start_date,
        promotions.end_date,
        cast({{ dbt.dateadd('day', 'offsets.generated_number - 1 - ' ~ window_days, 'promotions.start_date') }} as date)
            as promo_date
    from promotions
    cross join offsets
),

classified as (
    select
        promotion_name,
        promo_date,
        case
            when promo_date between start_date and end_date then 'sale'
            when promo_date < start_date then 'pre_sale'
            else 'post_sale'
        end as promo_period,
        case
            when promo_date between start_date and end_date then 1
            when promo_date < start_date then 2
            else 3
        end as period_priority,
        start_date
    from window_days
    where promo_date <= cast({{ dbt.dateadd('day', window_days, 'end_date') }} as date)
),

ranked as (
    select
        promotion_name,
        promo_period,
        promo_date,
        row_number() over (partition by promo_date order by period_priority, start_date) as period_rank
    from classified
),

final as (
    select
        promotion_name,
        promo_period,
        promo_date
    from ranked
    where period_rank = 1
)

select * from final
