{#- The lake is contiguous from the opening date: every table read by the staging models must have a
    partition for every day from the opening date to the lake's newest day. A missing partition (a day of orders
    without its clickstream, or a day never generated) silently skews every rate computed from it, and a day
    missing before the newest one breaks every relationship into it. The partitions are listed from the files
    themselves, so an empty partition (a day without signups) still counts as present. One row per missing
    (table, day). -#}
{#- DuckDB lists the partition files itself (glob); on Spark the pipeline's own check before dbt starts
    (pipeline/lake/check.py) guards contiguity, so the test is DuckDB's only. -#}
{{- config(enabled=target.type != 'spark') -}}
{%- set lake = env_var('ECOM_LAKE_DIR', '../data/lake') -%}
{%- set opening_date = env_var('ECOM_OPENING_DATE', var('ecom__opening_date')) -%}
{%- set lake_tables = ['users', 'products', 'orders', 'order_items', 'user_events', 'order_status_changes'] -%}
{# The partitions are read from the files, but the test belongs to the lake sources it checks #}
-- depends_on: {{ source('lake', 'users') }}, {{ source('lake', 'products') }}, {{ source('lake', 'orders') }}
-- depends_on: {{ source('lake', 'order_items') }}, {{ source('lake', 'user_events') }}
-- depends_on: {{ source('lake', 'order_status_changes') }}
with

partition_files as (
    select file from glob('{{ lake }}/*/dt=*/*.parquet')
),

partitions as (
    select distinct
        regexp_extract(file, '([^/]+)/dt=[0-9-]+/[^/]+$', 1) as table_name,
        cast(regexp_extract(file, 'dt=([0-9]{4}-[0-9]{2}-[0-9]{2})/', 1) as date) as partition_date
    from partition_files
),

lake_tables as (
    select unnest([{% for t in lake_tables %}'{{ t }}'{{ ', ' if not loop.last }}{% endfor %}]) as table_name
),

lake_span as (
    select
        cast('{{ opening_date }}' as date) as first_date,
        max(partition_date) as newest_date
    from partitions
    where table_name in (select table_name from lake_tables)
),

expected as (
    select
        lake_tables.table_name,
        cast(day.generate_series as date) as partition_date
    from lake_span
    cross join generate_series(lake_span.first_date, lake_span.newest_date, interval 1 day) as day
    cross join lake_tables
    where lake_span.newest_date is not null
),

missing as (
    select
        expected.table_name as missing_table,
        expected.partition_date
    from expected
    left join partitions
        on expected.table_name = partitions.table_name
        and expected.partition_date = partitions.partition_date
    where partitions.partition_date is null
)

select * from missing
order by partition_date, missing_table
