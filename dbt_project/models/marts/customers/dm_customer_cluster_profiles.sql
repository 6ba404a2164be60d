with

profiles as (
    select * from {{ source('scores', 'customer_cluster_profiles') }}
),

described as (
    select
        cluster,
        cluster_name,
        model_version,
        size as customers,
        mean_recency_days,
        mean_frequency,
        cast(mean_monetary as decimal(14, 2)) as mean_monetary,
        mean_sessions,
        mean_tenure_days,
        mean_trend
    from profiles
)

select * from described
