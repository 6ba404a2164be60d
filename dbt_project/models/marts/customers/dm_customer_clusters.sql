with

clusters as (
    select * from {{ source('scores', 'customer_clusters') }}
),

named as (
    select
        user_id,
        cluster_name,
        model_version,
        cluster,
        scored_at
    from clusters
)

select * from named
