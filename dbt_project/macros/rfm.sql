{#- A 1-5 score from a rank (1 = worst value, ties share the lowest rank) among `count` customers. -#}
{% macro rfm_score(rank, count) -%}
    cast(least(5, 1 + coalesce(floor(5.0 * ({{ rank }} - 1) / nullif({{ count }} - 1, 0)), 0)) as integer)
{%- endmacro %}

{#- The eleven usual RFM segments, from the recency score and the rounded mean of frequency and monetary. -#}
{% macro rfm_segment_name(r, fm) -%}
    case
        when ({{ r }} = 5 and {{ fm }} >= 4) or ({{ r }} = 4 and {{ fm }} = 5) then 'Champions'
        when {{ r }} >= 3 and {{ fm }} >= 4 then 'Loyal Customers'
        when {{ r }} >= 4 and {{ fm }} >= 2 then 'Potential Loyalists'
        when {{ r }} = 5 then 'New Customers'
        when {{ r }} = 4 then 'Promising'
        when {{ r }} = 3 and {{ fm }} = 3 then 'Need Attention'
        when {{ r }} = 3 then 'About to Sleep'
        when {{ fm }} = 5 then 'Can''t Lose Them'
        when {{ fm }} >= 3 then 'At Risk'
        when {{ r }} = 2 then 'Hibernating'
        else 'Lost'
    end
{%- endmacro %}
