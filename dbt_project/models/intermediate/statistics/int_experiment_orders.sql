{#- One row per order placed in a session exposed to an experiment (grain experiment_id x order_id): the
    sample of order values the Welch and Mann-Whitney tests compare. -#}

with

exposures as (
    select * from {{ ref('stg_lake__experiment_exposures') }}
),

orders as (
    select * from {{ ref('stg_lake__orders') }}
),

final as (
    select
        exposures.experiment_id,
        exposures.variant,
        orders.order_id,
        cast(orders.order_total as double) as order_value
    from exposures
    inner join orders on exposures.session_id = orders.session_id
)

select * from final
