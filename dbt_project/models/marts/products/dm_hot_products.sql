{#- Top-10 products, brands and categories per segment and season, as of each day with orders. A list as of day D
    for season S counts the purchases (order lines) placed in S in the 365 days up to and including D: the most
    recent occurrence of each season. Segments: everybody ('all'), gender, age band (age at signup, from the birth
    date), region, and RFM segment (the customer's segment in dm_rfm_segments, as of the last day of the build).
    Ties rank by item id. A list with fewer than `ecom__hot_list_min_purchases` purchases behind it is thin. -#}
{%- set age_days = dbt.datediff('users.birth_date', 'users.signup_date', 'day') %}
{#- segment type -> its column in `banded`; item kind -> (id, name) -#}
{%- set segment_columns = {
    'all': "'all'", 'gender': 'gender', 'age_band': 'age_band', 'region': 'region', 'rfm_segment': 'rfm_segment'
} %}
{#- what a list entry is: the list (segment, season, item kind) and its item -#}
{%- set list_item = 'segment_type, segment, season, item_kind, item_id, item_name' %}
{%- set item_columns = [
    ('product', 'cast(product_id as ' ~ dbt.type_string() ~ ')', 'product_name'),
    ('brand', 'brand', 'brand'),
    ('category', 'category', 'category'),
] %}

with

order_lines as (
    select * from {{ ref('int_order_items_enriched') }}
),

orders as (
    select * from {{ ref('int_orders_enriched') }}
),

users as (
    select * from {{ ref('stg_lake__users') }}
),

customers as (
    select * from {{ ref('dm_rfm_segments') }}
),

products as (
    select * from {{ ref('stg_lake__products') }}
),

lines as (
    select
        order_lines.product_id,
        products.product_name,
        products.brand,
        products.category,
        users.gender,
        users.region,
        customers.segment_name as rfm_segment,
        case
            when month(order_lines.order_date) in (12, 1, 2) then 'winter'
            when month(order_lines.order_date) in (3, 4, 5) then 'spring'
            when month(order_lines.order_date) in (6, 7, 8) then 'summer'
            else 'autumn'
        end as season,
        floor({{ age_days }} / 365.25) as age_years,
        order_lines.order_date
    from order_lines
    inner join orders on order_lines.order_id = orders.order_id
    inner join users on orders.user_id = users.user_id
    left join customers on orders.user_id = customers.user_id
    left join products
        on
            order_lines.product_id = products.product_id
            and order_lines.order_date = products.price_date
),

banded as (
    select
        *,
        case
            when age_years < 25 then '18-24'
            when age_years < 35 then '25-34'
            when age_years < 45 then '35-44'
            when age_years < 55 then '45-54'
            when age_years < 65 then '55-64'
            else '65+'
        end as age_band
    from lines
),

segmented as (
    {%- for segment_type, column in segment_columns.items() %}
        select
            '{{ segment_type }}' as segment_type,
            {{ column }} as segment,
            season,
            order_date,
            product_id,
            product_name,
            brand,
            category
        from banded
        {%- if segment_type == 'rfm_segment' %}
            where rfm_segment is not null  -- a customer without a segment in dm_rfm_segments is in no RFM list
        {%- endif %}
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

items as (
    {%- for item_kind, id_column, name_column in item_columns %}
        select
            segment_type,
            segment,
            season,
            order_date,
            '{{ item_kind }}' as item_kind,
            {{ id_column }} as item_id,
            {{ name_column }} as item_name
        from segmented
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

daily as (
    select
        {{ list_item }},
        order_date,
        count(*) as purchases
    from items
    group by {{ list_item }}, order_date
),

as_of_days as (
    select distinct order_date as as_of_date from order_lines
),

{# A day's purchases count in the lists as of that day and the 364 days after it: they enter the 365-day
    window on their day and leave it 365 days later. A running sum of those changes gives each item's purchases
    over an interval of days, which every as-of day inside the interval takes, so no day's purchases are
    summed once per as-of day of their window (a join that grew with the square of the history). #}
changes as (
    select
        {{ list_item }},
        order_date as change_date,
        purchases as purchases_change
    from daily
    union all
    select
        {{ list_item }},
        {{ dbt.dateadd('day', 365, 'order_date') }} as change_date,
        -purchases as purchases_change
    from daily
),

netted as (
    select
        {{ list_item }},
        cast(change_date as date) as change_date,
        sum(purchases_change) as purchases_change
    from changes
    group by {{ list_item }}, cast(change_date as date)
),

intervals as (
    select
        {{ list_item }},
        change_date as valid_from,
        lead(change_date) over (partition by {{ list_item }} order by change_date) as valid_until,
        sum(purchases_change) over (
            partition by {{ list_item }} order by change_date rows between unbounded preceding and current row
        ) as purchases
    from netted
),

windowed as (
    select
        as_of_days.as_of_date,
        intervals.{{ list_item | replace(', ', ', intervals.') }},
        intervals.purchases
    from intervals
    inner join as_of_days
        on
            intervals.valid_from <= as_of_days.as_of_date
            and intervals.valid_until > as_of_days.as_of_date
    -- an interval with purchases always ends: the last change of an item is its last day leaving the window
    where intervals.purchases > 0
),

ranked as (
    select
        *,
        row_number() over (
            partition by as_of_date, segment_type, segment, season, item_kind
            order by purchases desc, item_id asc
        ) as item_rank,
        sum(purchases) over (partition by as_of_date, segment_type, segment, season, item_kind) as list_purchases
    from windowed
),

final as (
    select
        segment_type,
        segment,
        season,
        item_kind,
        cast(item_rank as integer) as rank,
        item_id,
        item_name,
        cast(purchases as bigint) as purchases,
        cast(list_purchases as bigint) as list_purchases,
        list_purchases < {{ var('ecom__hot_list_min_purchases') }} as is_thin,
        as_of_date
    from ranked
    where item_rank <= 10
)

select * from final
