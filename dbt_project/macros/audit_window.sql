{#-
    Event-level tests audit only what the incremental models are about to read. A generic test configured with
    `where: "audit_window(<partition column>)"` checks the partitions from `ecom__lookback_days` before the newest
    day already built (the same cutoff as the incremental models); on a first build or a full refresh it checks
    everything. This keeps a one-day refresh from re-scanning a year of clickstream to re-prove old days.
-#}
{% macro audit_cutoff() %}
    {%- if not execute or flags.FULL_REFRESH -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set sessions = adapter.get_relation(
        database=target.database, schema="intermediate", identifier="int_events_sessionized"
    ) -%}
    {%- if sessions is none -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(rebuild_cutoff(sessions, "partition_date")) }}
{% endmacro %}

{#- dbt's hook for a generic test's `where` config, taught the `audit_window(column)` form. -#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get("where") -%}
    {%- if where and where.startswith("audit_window(") -%}
        {%- set cutoff = audit_cutoff() -%}
        {%- if cutoff is none -%}
            {{ return(relation) }}
        {%- endif -%}
        {%- set where = where[13:-1] ~ " >= cast('" ~ cutoff ~ "' as date)" -%}
    {%- endif -%}
    {%- if where -%}
        {{ return("(select * from " ~ relation ~ " where " ~ where ~ ") as dbt_subquery") }}
    {%- endif -%}
    {{ return(relation) }}
{%- endmacro %}
