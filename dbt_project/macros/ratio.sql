{#- A share as a double, null when the denominator is zero (integer division truncates on some engines). -#}
{% macro ratio(numerator, denominator) -%}
    cast({{ numerator }} as {{ type_double() }}) / nullif({{ denominator }}, 0)
{%- endmacro %}
