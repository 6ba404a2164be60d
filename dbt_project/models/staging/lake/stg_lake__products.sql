with

source as (
    select * from {{ source('lake', 'products') }}
),

renamed as (
    select
        product_id,
        product_name,
        brand,
        category,
        department,
        cast(cost as decimal(12, 2)) as unit_cost,
        cast(retail_price as decimal(12, 2)) as retail_price,
        launch_date,
        cast(dt as date) as price_date
    from source
)

select * from renamed
