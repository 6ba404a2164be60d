{#-
    The few places where DuckDB and Spark truly differ, as `adapter.dispatch` macros (default = DuckDB, which
    PostgreSQL shares). Everything else in the project uses dbt's cross-database macros.
-#}

{#- ISO day of the week (Monday = 1 ... Sunday = 7) of a timestamp or date. -#}
{% macro iso_weekday(expression) -%}
    {{ return(adapter.dispatch("iso_weekday", "ecommerce")(expression)) }}
{%- endmacro %}

{% macro default__iso_weekday(expression) -%}
    extract(isodow from {{ expression }})
{%- endmacro %}

{% macro spark__iso_weekday(expression) -%}
    extract(dayofweek_iso from {{ expression }})
{%- endmacro %}

{#-
    `partition_by` of the incremental models: Spark overwrites the day partitions a run rebuilds (no merge without
    Delta or Iceberg); DuckDB deletes and re-inserts the rows by `unique_key` and has no partitions.
-#}
{% macro day_partition(column) -%}
    {{ return(adapter.dispatch("day_partition", "ecommerce")(column)) }}
{%- endmacro %}

{% macro default__day_partition(column) -%}
    {{ return(none) }}
{%- endmacro %}

{% macro spark__day_partition(column) -%}
    {{ return(column) }}
{%- endmacro %}

{#- A double-precision float: PostgreSQL and DuckDB spell it `double precision`, Spark only `double`. -#}
{% macro type_double() -%}
    {{ return(adapter.dispatch("type_double", "ecommerce")()) }}
{%- endmacro %}

{% macro default__type_double() -%}
    double precision
{%- endmacro %}

{% macro spark__type_double() -%}
    double
{%- endmacro %}

{#-
    Contracts name their types once for every engine (`varchar`, as DuckDB and PostgreSQL spell it). Spark has no
    length-less `varchar`: its text type is `string`. dbt checks a contract by casting nulls to the declared types
    (`get_empty_schema_sql`), so on Spark the declared `varchar` is read as `string` before that cast. Overrides
    the macro of dbt-adapters 1.24 (dbt-core 1.11) through the `dispatch` search order in dbt_project.yml.
-#}
{% macro spark__get_empty_schema_sql(columns) -%}
    {%- set translated = {} -%}
    {%- for name, column in columns.items() -%}
        {%- set spec = column.copy() -%}
        {%- if (spec.get("data_type") or "") | lower | trim == "varchar" -%}
            {%- do spec.update({"data_type": "string"}) -%}
        {%- endif -%}
        {%- do translated.update({name: spec}) -%}
    {%- endfor -%}
    {{ return(dbt.default__get_empty_schema_sql(translated)) }}
{%- endmacro %}

{#-
    `on-run-start` (renders no SQL of its own): make the lake's tables known to the engine. DuckDB reads them through each source's
    `external_location` and needs nothing. Spark gets one external table per lake source in schema `lake`,
    re-created on every run so that new columns and new day partitions are seen (`mergeSchema` unions the
    columns of old and new days, as DuckDB's `union_by_name` does).
-#}
{% macro register_lake() -%}
    {{ return(adapter.dispatch("register_lake", "ecommerce")()) }}
{%- endmacro %}

{% macro default__register_lake() -%}{%- endmacro %}

{% macro spark__register_lake() -%}
    {%- if execute -%}
        {%- set lake_dir = env_var("ECOM_LAKE_DIR", "../data/lake") -%}
        {%- do run_query("create database if not exists lake") -%}
        {%- for source in graph.sources.values() | selectattr("source_name", "equalto", "lake") -%}
            {%- set table = "lake." ~ source.name -%}
            {%- do run_query("drop table if exists " ~ table) -%}
            {%- do run_query(
                "create table " ~ table ~ " using parquet options (mergeSchema 'true') location '"
                ~ lake_dir ~ "/" ~ source.name ~ "'"
            ) -%}
            {%- do run_query("msck repair table " ~ table) -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}

{#-
    `on-run-end`: Spark writes every mart it holds to Parquet under ECOM_SPARK_EXPORT_DIR, from where the
    pipeline loads them into the build DuckDB file with the contracts' types (pipeline/build/spark.py). The pipeline
    loads them only when every node passed: this hook runs on failed builds too, and their export is ignored.
-#}
{% macro export_marts() -%}
    {{ return(adapter.dispatch("export_marts", "ecommerce")()) }}
{%- endmacro %}

{% macro default__export_marts() -%}{%- endmacro %}

{% macro spark__export_marts() -%}
    {%- set export_dir = env_var("ECOM_SPARK_EXPORT_DIR", "") -%}
    {%- if execute and export_dir -%}
        {%- for node in graph.nodes.values()
            | selectattr("resource_type", "equalto", "model")
            | selectattr("schema", "equalto", "marts") -%}
            {%- set relation = adapter.get_relation(database=none, schema=node.schema, identifier=node.alias) -%}
            {%- if relation is not none -%}
                {%- do run_query(
                    "insert overwrite directory '" ~ export_dir ~ "/" ~ node.alias ~ "' using parquet "
                    ~ "select * from " ~ relation
                ) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}
