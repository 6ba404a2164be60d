{#- One row when sum(column_name) of `model` differs from sum(compare_column) of `compare_model`. -#}
{% test equal_sum(model, column_name, compare_model, compare_column) %}
    with
    left_side as (select coalesce(sum({{ column_name }}), 0) as total from {{ model }}),
    right_side as (select coalesce(sum({{ compare_column }}), 0) as total from {{ compare_model }})
    select left_side.total as model_total, right_side.total as compare_model_total
    from left_side
    cross join right_side
    where left_side.total <> right_side.total
{% endtest %}
