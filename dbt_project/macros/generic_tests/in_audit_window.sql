{#- dbt's unique, not_null and accepted_values, and the project's unique_combination_of_columns, over the
    partitions this build rebuilt (macros/audit_window.sql). `partition_column` names the model's day column. -#}

{% test unique_in_audit_window(model, column_name, partition_column) %}
    -- depends_on: {{ ref('int_events_sessionized') }}
    {{ adapter.dispatch('test_unique', 'dbt')(audited(model, partition_column), column_name) }}
{% endtest %}

{% test not_null_in_audit_window(model, column_name, partition_column) %}
    -- depends_on: {{ ref('int_events_sessionized') }}
    {{ adapter.dispatch('test_not_null', 'dbt')(audited(model, partition_column), column_name) }}
{% endtest %}

{% test accepted_values_in_audit_window(model, column_name, values, partition_column, quote=true) %}
    -- depends_on: {{ ref('int_events_sessionized') }}
    {{ adapter.dispatch('test_accepted_values', 'dbt')(audited(model, partition_column), column_name, values, quote) }}
{% endtest %}

{% test unique_combination_of_columns_in_audit_window(model, combination_of_columns, partition_column) %}
    -- depends_on: {{ ref('int_events_sessionized') }}
    {{ test_unique_combination_of_columns(audited(model, partition_column), combination_of_columns) }}
{% endtest %}
