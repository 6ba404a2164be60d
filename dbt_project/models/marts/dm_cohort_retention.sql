{#- A user is active in a period when they placed a completed (not cancelled) order in that calendar month;
    revenue is net of cancellations and returns. -#}
with

users as (
    select * from {{ ref('stg_lake__users') }}
),

orders as (
    select * from {{ ref('int_orders_enriched') }}
),

completed_orders as (
    select
        user_id,
        net_revenue,
        cast({{ dbt.date_trunc('month', 'order_date') }} as date) as order_month
    from orders
    where not is_cancelled
),

order_months as (
    select
        cast({{ dbt.date_trunc('month', 'min(order_date)') }} as date) as first_month,
        cast({{ dbt.date_trunc('month', 'max(order_date)') }} as date) as last_month
    from orders
),

month_offsets as (
    {{ dbt.generate_series(1200) }}
),

data_months as (
    select
        cast({{ dbt.dateadd('month', 'month_offsets.generated_number - 1', 'order_months.first_month') }} as date)
            as period_month
    from order_months
    cross join month_offsets
    where month_offsets.generated_number - 1 <= {{ dbt.datediff('order_months.first_month', 'order_months.last_month', 'month') }}
),

signup_cohorts as (
    select
        user_id,
        'signup' as cohort_type,
        cast({{ dbt.date_trunc('month', 'signup_date') }} as date) as cohort_month
    from users
),

purchase_cohorts as (
    select
        user_id,
        'first_purchase' as cohort_type,
        min(order_month) as cohort_month
    from completed_orders
    group by user_id
),

cohort_members as (
    select * from signup_cohorts
    union all
    select * from purchase_cohorts
),

cohort_sizes as (
    select
        cohort_type,
        cohort_month,
        count(*) as cohort_users
    from cohort_members
    group by cohort_type, cohort_month
),

member_orders as (
    select
        cohort_members.user_id,
        cohort_members.cohort_type,
        cohort_members.cohort_month,
        completed_orders.order_month,
        completed_orders.net_revenue
    from cohort_members
    inner join completed_orders on cohort_members.user_id = completed_orders.user_id
),

member_periods as (
    select
        user_id,
        cohort_type,
        cohort_month,
        net_revenue,
        {{ dbt.datediff('cohort_month', 'order_month', 'month') }}
            as period_number
    from member_orders
),

activity as (
    select
        cohort_type,
        cohort_month,
        period_number,
        count(distinct user_id) as active_users,
        sum(net_revenue) as period_revenue
    from member_periods
    group by cohort_type, cohort_month, period_number
),

cohort_months as (
    select
        cohort_sizes.cohort_type,
        cohort_sizes.cohort_month,
        cohort_sizes.cohort_users,
        data_months.period_month
    from cohort_sizes
    inner join data_months on cohort_sizes.cohort_month <= data_months.period_month
),

grid as (
    select
        *,
        {{ dbt.datediff('cohort_month', 'period_month', 'month') }}
            as period_number
    from cohort_months
),

final as (
    select
        grid.cohort_type,
        grid.period_number,
        grid.cohort_users,
        coalesce(activity.active_users, 0) as active_users,
        {{ ratio('coalesce(activity.active_users, 0)', 'grid.cohort_users') }} as retention_rate,
        cast(coalesce(activity.period_revenue, 0) as decimal(14, 2)) as period_revenue,
        cast(
            sum(coalesce(activity.period_revenue, 0)) over (
                partition by grid.cohort_type, grid.cohort_month order by grid.period_number
                rows between unbounded preceding and current row
            ) as decimal(14, 2)
        ) as cumulative_revenue,
        {{ ratio(
            'sum(coalesce(activity.period_revenue, 0)) over (partition by grid.cohort_type, grid.cohort_month '
            ~ 'order by grid.period_number rows between unbounded preceding and current row)',
            'grid.cohort_users'
        ) }} as cumulative_revenue_per_user,
        grid.cohort_month,
        grid.period_month
    from grid
    left join activity
        on
            grid.cohort_type = activity.cohort_type
            and grid.cohort_month = activity.cohort_month
            and grid.period_number = activity.period_number
)

select * from final
