with

fitted as (
    select * from {{ ref('int_revenue_forecast_fitted') }}
    where row_kind = 'backtest'
),

final as (
    select
        cast(metric as varchar) as metric,
        cast(model as varchar) as model_name,
        cast(promo_period as varchar) as promo_period,
        cast(horizon_days as integer) as horizon_days,
        cast(actual as double) as actual,
        cast(forecast as double) as point_forecast,
        cast(lower_80 as double) as lower_80,
        cast(upper_80 as double) as upper_80,
        cast(lower_95 as double) as lower_95,
        cast(upper_95 as double) as upper_95,
        cast(absolute_percentage_error as double) as absolute_percentage_error,
        cast(is_within_80 as boolean) as is_within_80,
        cast(is_within_95 as boolean) as is_within_95,
        cast(model = chosen_model as boolean) as is_chosen_model,
        cast(origin_date as date) as origin_date,
        cast(forecast_date as date) as forecast_date
    from fitted
)

select * from final
