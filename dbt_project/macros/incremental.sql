{#-
    Incremental models rebuild every partition from `ecom__lookback_days` days before the newest partition they
    already hold, or before the earliest lake day that changed since the last passing build, whichever is
    earlier (see `earliest_rebuild_day`), so late-arriving, back-filled and re-generated days are all picked up.
    The cutoff is computed at compile time and inlined as a literal: DuckDB then prunes the lake's hive partitions
    and reads only the files of the window, which keeps a one-day refresh as cheap at a year as at a month.
-#}
{% macro lookback_cutoff(this_column) %}
    {%- if not execute or not is_incremental() -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(rebuild_cutoff(this, this_column)) }}
{% endmacro %}

{#- The rebuild cutoff (ISO date) for `relation`, from the newest `column` it holds; none when it is empty. -#}
{% macro rebuild_cutoff(relation, column) %}
    {%- set latest = run_query("select max(" ~ column ~ ") from " ~ relation).columns[0].values()[0] -%}
    {%- if latest is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set latest_day = modules.datetime.date.fromisoformat((latest | string)[:10]) -%}
    {{ return(earliest_rebuild_day(latest_day).isoformat()) }}
{% endmacro %}

{#-
    The day to rebuild from, given the newest day a model already holds: `ecom__lookback_days` before it, or
    before the earliest lake day that changed since the last passing build (`ECOM_REBUILD_FROM`, set by the
    pipeline from the lake's file signatures), whichever is earlier. The second catches days generated out of
    order (a backfill of an older date) and days re-generated after a fix.
-#}
{% macro earliest_rebuild_day(latest_day) %}
    {%- set day = latest_day -%}
    {%- set changed = env_var("ECOM_REBUILD_FROM", "") -%}
    {%- if changed -%}
        {%- set changed_day = modules.datetime.date.fromisoformat(changed) -%}
        {%- if changed_day < day -%}
            {%- set day = changed_day -%}
        {%- endif -%}
    {%- endif -%}
    {{ return(day - modules.datetime.timedelta(days=var("ecom__lookback_days") | int)) }}
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

{#-
    Pre-hook of the incremental models: delete the rows from the rebuild cutoff on, so that the window is rebuilt
    exactly from the lake. `delete+insert` alone replaces only the keys the new rows carry: rows of a day that a
    failed build read and the lake no longer holds (removed, or regenerated with other keys) would stay and
    poison every later build. Spark's `insert_overwrite` replaces whole day partitions instead (a day removed from
    the lake there needs a `--full-refresh`).
-#}
{% macro clear_rebuild_window(this_column) %}
    {%- if execute and is_incremental() and target.type != 'spark' -%}
        {%- set cutoff = lookback_cutoff(this_column) -%}
        {%- if cutoff is not none -%}
            delete from {{ this }} where {{ this_column }} >= cast('{{ cutoff }}' as date)
        {%- endif -%}
    {%- endif -%}
{% endmacro %}
