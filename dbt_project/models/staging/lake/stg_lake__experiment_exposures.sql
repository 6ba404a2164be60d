{{ config(enabled=target.type == 'duckdb') }}

with

source as (
    select * from {{ source('lake', 'experiment_exposures') }}
),

renamed as (
    select
        session_id,
        user_id,
        cast(experiment_id as varchar) as experiment_id,
        cast(variant as varchar) as variant,
        cast(dt as date) as partition_date,
        cast(exposed_at as timestamp) as exposed_at
    from source
)

select * from renamed
