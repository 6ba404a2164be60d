{#- Net revenue, recomputed from the lake alone: an order counts its order_total unless its latest status change
    (the lake's order_status_changes) cancelled or returned it. Every mart that publishes net revenue must agree,
    per user (dm_user_purchase_summary, dm_rfm_segments), per day (dm_category_performance) and in total per
    cohort type (dm_cohort_retention). Returns one row per disagreement. -#}
with

lake_orders as (
    select
        order_id,
        user_id,
        cast(order_total as decimal(18, 2)) as order_total,
        cast(created_at as date) as order_date
    from {{ source('lake', 'orders') }}
),

lake_changes as (
    select
        order_id,
        status,
        row_number() over (partition by order_id order by changed_at desc, status asc) as change_rank
    from {{ source('lake', 'order_status_changes') }}
),

lake_net as (
    select
        lake_orders.user_id,
        lake_orders.order_date,
        coalesce(lake_changes.status = 'cancelled', false) as is_cancelled,
        case
            when lake_changes.status in ('cancelled', 'returned') then cast(0 as decimal(18, 2))
            else lake_orders.order_total
        end as net_revenue
    from lake_orders
    left join lake_changes
        on
            lake_orders.order_id = lake_changes.order_id
            and lake_changes.change_rank = 1
),

expected_by_user as (
    select
        user_id,
        sum(net_revenue) as net_revenue,
        sum(case when is_cancelled then 0 else 1 end) = 0 as has_only_cancelled_orders
    from lake_net
    group by user_id
),

customers as (
    select
        user_id,
        net_revenue
    from expected_by_user
    where not has_only_cancelled_orders
),

lake_total as (
    select coalesce(sum(net_revenue), 0) as net_revenue
    from lake_net
),

cohort_types as (
    select 'signup' as cohort_type
    union all
    select 'first_purchase' as cohort_type
),

expected_by_day as (
    select
        order_date,
        sum(net_revenue) as net_revenue
    from lake_net
    group by order_date
),

user_summary as (
    select
        user_id,
        net_revenue
    from {{ ref('dm_user_purchase_summary') }}
    where orders > 0
),

rfm as (
    select
        user_id,
        monetary
    from {{ ref('dm_rfm_segments') }}
),

category_days as (
    select
        performance_date,
        sum(net_revenue) as net_revenue
    from {{ ref('dm_category_performance') }}
    group by performance_date
),

cohort_totals as (
    select
        cohort_type,
        sum(period_revenue) as net_revenue
    from {{ ref('dm_cohort_retention') }}
    group by cohort_type
),

mismatches as (
    select
        'dm_user_purchase_summary.net_revenue' as published_column,
        cast(coalesce(expected_by_user.user_id, user_summary.user_id) as {{ dbt.type_string() }}) as published_key,
        expected_by_user.net_revenue as lake_net_revenue,
        user_summary.net_revenue as published_net_revenue
    from expected_by_user
    full outer join user_summary on expected_by_user.user_id = user_summary.user_id
    where user_summary.net_revenue is distinct from expected_by_user.net_revenue

    union all

    select
        'dm_rfm_segments.monetary' as published_column,
        cast(coalesce(customers.user_id, rfm.user_id) as {{ dbt.type_string() }}) as published_key,
        customers.net_revenue as lake_net_revenue,
        rfm.monetary as published_net_revenue
    from customers
    full outer join rfm on customers.user_id = rfm.user_id
    where rfm.monetary is distinct from customers.net_revenue

    union all

    select
        'dm_category_performance.net_revenue' as published_column,
        cast(expected_by_day.order_date as {{ dbt.type_string() }}) as published_key,
        expected_by_day.net_revenue as lake_net_revenue,
        coalesce(category_days.net_revenue, 0) as published_net_revenue
    from expected_by_day
    left join category_days on expected_by_day.order_date = category_days.performance_date
    where coalesce(category_days.net_revenue, 0) <> expected_by_day.net_revenue

    union all

    select
        'dm_cohort_retention.period_revenue' as published_column,
        cohort_types.cohort_type as published_key,
        lake_total.net_revenue as lake_net_revenue,
        coalesce(cohort_totals.net_revenue, 0) as published_net_revenue
    from cohort_types
    cross join lake_total
    left join cohort_totals on cohort_types.cohort_type = cohort_totals.cohort_type
    where coalesce(cohort_totals.net_revenue, 0) <> lake_total.net_revenue
)

select * from mismatches
