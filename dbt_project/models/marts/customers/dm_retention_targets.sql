{#- Customers to act on first: value at risk = churn probability x predicted 365-day spend, at the latest
    scoring date, with their RFM segment and the strongest reason among their features. -#}
with

churn as (
    select * from {{ ref('dm_customer_churn') }}
),

lifetime_value as (
    select * from {{ ref('dm_customer_lifetime_value') }}
),

segments as (
    select * from {{ ref('dm_rfm_segments') }}
),

latest_churn as (
    select *
    from churn
    where scored_at = (select max(churn_dates.scored_at) from churn as churn_dates)
),

at_risk as (
    select
        latest_churn.user_id,
        coalesce(segments.segment_name, 'unsegmented') as segment_name,
        latest_churn.risk_band,
        case
            when latest_churn.sessions_30d = 0 and latest_churn.recency_days >= 60 then 'no visit in 30 days, no order in 60'
            when latest_churn.trend < 0 then 'ordering less than the month before'
            when latest_churn.recency_days >= 60 then 'no order in 60 days'
            when latest_churn.frequency = 1 then 'one order so far'
            else 'churn score above its peers'
        end as reason,
        latest_churn.churn_probability,
        lifetime_value.predicted_spend_365d,
        cast(latest_churn.churn_probability * lifetime_value.predicted_spend_365d as decimal(14, 2)) as value_at_risk,
        latest_churn.recency_days,
        latest_churn.frequency,
        latest_churn.scored_at
    from latest_churn
    inner join lifetime_value on latest_churn.user_id = lifetime_value.user_id
    left join segments on latest_churn.user_id = segments.user_id
    where latest_churn.risk_band != 'low'
),

ranked as (
    select
        user_id,
        segment_name,
        risk_band,
        reason,
        churn_probability,
        predicted_spend_365d,
        value_at_risk,
        recency_days,
        frequency,
        cast(row_number() over (order by value_at_risk desc, user_id asc) as bigint) as priority_rank,
        scored_at
    from at_risk
)

select * from ranked
