{#-
    Event-level tests audit only what this build read: the partitions from the earliest day that
    `int_events_sessionized` rebuilt in this dbt invocation (its rows carry `dbt_invocation_id`), i.e. the
    incremental window on a refresh and everything on a first build or a full refresh. This keeps a one-day
    refresh from re-scanning a year of clickstream to re-prove old days, while every day a build reads is audited.

    The generic tests `*_in_audit_window` (macros/generic_tests/in_audit_window.sql) declare the dependency on the
    sessions model with `-- depends_on`, so the lineage shows it and dbt runs them after that model. When they run
    in an invocation that did not build the sessions (a separate `dbt test`), they audit everything.
-#}
{% macro audit_cutoff() %}
    {%- if not execute or flags.FULL_REFRESH -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set sessions = load_relation(ref("int_events_sessionized")) -%}
    {%- if sessions is none -%}
        {#- not built yet (e.g. `dbt compile` against an empty database): nothing to narrow -#}
        {{ return(none) }}
    {%- endif -%}
    {%- set query -%}
        select min(partition_date) from {{ sessions }}
        where dbt_invocation_id = '{{ invocation_id }}'
    {%- endset -%}
    {%- set first_rebuilt = run_query(query).columns[0].values()[0] -%}
    {%- if first_rebuilt is none -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return((first_rebuilt | string)[:10]) }}
{% endmacro %}

{#- `relation` narrowed to the partitions this build rebuilt (all of it when there is no cutoff). -#}
{% macro audited(relation, partition_column) %}
    {%- set cutoff = audit_cutoff() -%}
    {%- if cutoff is none -%}
        {{ return(relation) }}
    {%- endif -%}
    {{ return(
        "(select * from " ~ relation ~ " where " ~ partition_column ~ " >= cast('" ~ cutoff ~ "' as date))"
        ~ " as audited"
    ) }}
{% endmacro %}
