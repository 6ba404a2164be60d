{#-
    Money divided and rounded to the cent, half a cent away from zero, identically on every engine.

    DuckDB divides decimals in double precision, so an exact half cent (24.69 / 2 = 12.345) rounds up or down
    depending on its binary representation; Spark and PostgreSQL divide decimals exactly. Both macros therefore
    divide whole cents by integer division (`int_div`), which is exact everywhere. Amounts must be non-negative
    (revenue, discounts, subtotals): a zero or null divisor gives null.
-#}

{#- `amount` / `count` (e.g. revenue per order) as decimal(12, 2). -#}
{% macro money_per(amount, count) -%}
    {{ cents_to_money(half_up_quotient(money_to_cents(amount), "nullif(" ~ count ~ ", 0)")) }}
{%- endmacro %}

{#- `amount` x `part` / `whole`, three money amounts (a share of a discount), as decimal(12, 2). -#}
{% macro money_share(amount, part, whole) -%}
    {{ cents_to_money(half_up_quotient(
        money_to_cents(amount) ~ " * " ~ money_to_cents(part),
        "nullif(" ~ money_to_cents(whole) ~ ", 0)"
    )) }}
{%- endmacro %}

{% macro money_to_cents(amount) -%}
    cast(({{ amount }}) * 100 as bigint)
{%- endmacro %}

{#- Decimal multiplication is exact on every engine (a division by 100 would be a double on DuckDB). -#}
{% macro cents_to_money(cents) -%}
    cast(cast({{ cents }} as decimal(18, 0)) * 0.01 as decimal(12, 2))
{%- endmacro %}

{#- round(numerator / denominator) for non-negative integers, halves up: floor((2n + d) / 2d). -#}
{% macro half_up_quotient(numerator, denominator) -%}
    {{ int_div("2 * (" ~ numerator ~ ") + (" ~ denominator ~ ")", "2 * (" ~ denominator ~ ")") }}
{%- endmacro %}

{#- Integer division, truncating: DuckDB `//`, Spark `div`, PostgreSQL `/` on integers. -#}
{% macro int_div(numerator, denominator) -%}
    {{ return(adapter.dispatch("int_div", "ecommerce")(numerator, denominator)) }}
{%- endmacro %}

{% macro default__int_div(numerator, denominator) -%}
    (({{ numerator }}) // ({{ denominator }}))
{%- endmacro %}

{% macro spark__int_div(numerator, denominator) -%}
    (({{ numerator }}) div ({{ denominator }}))
{%- endmacro %}

{% macro postgres__int_div(numerator, denominator) -%}
    (({{ numerator }}) / ({{ denominator }}))
{%- endmacro %}
