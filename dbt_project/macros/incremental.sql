{#-
    Incremental models rebuild every partition from `ecom__lookback_days` days before the newest partition they
    already hold, so late-arriving or re-generated days inside that window are picked up. The cutoff is computed
    at compile time and inlined as a literal: DuckDB then prunes the lake's hive partitions and reads only the
    files of the window, which keeps a one-day refresh as cheap at a year of history as at a month.
-#}
{% macro lookback_cutoff(this_column) %}
    {%- if not execute or not is_incremental() -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set result = run_query("select max(" ~ this_column ~ ") from " ~ this) -%}
    {%- set latest = result.columns[0].values()[0] -%}
    {%- if latest is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set latest_day = modules.datetime.date.fromisoformat((latest | string)[:10]) -%}
    {%- set cutoff = latest_day - modules.datetime.timedelta(days=var("ecom__lookback_days") | int) -%}
    {{ return(cutoff.isoformat()) }}
{% endmacro %}

{#- A predicate on `column` that keeps the lookback window on incremental runs and everything otherwise. -#}
{% macro incremental_window(column, this_column=none, extra_days=0) %}
    {%- set cutoff = lookback_cutoff(this_column or column) -%}
    {%- if cutoff is none -%}
        1 = 1
    {%- else -%}
        {%- set day = modules.datetime.date.fromisoformat(cutoff) - modules.datetime.timedelta(days=extra_days) -%}
        {{ column }} >= cast('{{ day.isoformat() }}' as date)
    {%- endif -%}
{% endmacro %}
