with

comparisons as (
    select * from {{ ref('int_segment_order_values') }}
),

final as (
    select
        cast(dimension as varchar) as dimension,
        cast(segment as varchar) as segment,
        cast(baseline_segment as varchar) as baseline_segment,
        cast(segment_orders as bigint) as segment_orders,
        cast(baseline_orders as bigint) as baseline_orders,
        cast(segment_mean_order_value as double) as segment_mean_order_value,
        cast(baseline_mean_order_value as double) as baseline_mean_order_value,
        cast(difference as double) as difference,
        cast(difference_lower as double) as difference_lower_95,
        cast(difference_upper as double) as difference_upper_95,
        cast(relative_difference as double) as relative_difference,
        cast(relative_difference_lower as double) as relative_difference_lower_95,
        cast(relative_difference_upper as double) as relative_difference_upper_95,
        cast(welch_p_value as double) as welch_p_value,
        cast(mann_whitney_p_value as double) as mann_whitney_p_value,
        cast(is_significant as boolean) as is_significant
    from comparisons
)

select * from final
