with

source as (
    select * from {{ source('lake', 'users') }}
),

renamed as (
    select
        user_id,
        first_name,
        last_name,
        email,
        gender,
        city,
        region,
        country,
        device as signup_device,
        acquisition_channel,
        latitude,
        longitude,
        birth_date,
        cast(signup_at as date) as signup_date,
        cast(dt as date) as partition_date,
        cast(signup_at as timestamp) as signup_at
    from source
)

select * from renamed
