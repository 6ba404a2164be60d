with

fitted as (
    select * from {{ ref('int_revenue_forecast_fitted') }}
    where row_kind = 'forecast'
),

final as (
    select
        cast(metric as varchar) as metric,
        cast(model as varchar) as model_name,
        cast(promo_period as varchar) as promo_period,
        cast(horizon_days as integer) as horizon_days,
        cast(forecast as double) as point_forecast,
        cast(lower_80 as double) as lower_80,
        cast(upper_80 as double) as upper_80,
        cast(lower_95 as double) as lower_95,
        cast(upper_95 as double) as upper_95,
        cast(forecast_date as date) as forecast_date,
        cast(origin_date as date) as history_end_date
    from fitted
)

select * from final
