{#- One row when `model` and `compare_model` hold different numbers of rows. -#}
{% test equal_rowcount(model, compare_model) %}
    with
    left_side as (select count(*) as row_count from {{ model }}),
    right_side as (select count(*) as row_count from {{ compare_model }})
    select left_side.row_count as model_rows, right_side.row_count as compare_model_rows
    from left_side
    cross join right_side
    where left_side.row_count <> right_side.row_count
{% endtest %}
