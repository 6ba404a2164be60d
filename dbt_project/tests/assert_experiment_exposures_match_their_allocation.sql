{{ config(enabled=target.type == 'duckdb') }}
{#- A sample-ratio mismatch inside one day: per experiment and day, the units of each arm against the planned
    allocation (Pearson chi-square, 1 degree of freedom). A day fails at chi-square > 23.93 (p < 1e-6): strict
    enough that a clean lake of a few hundred experiment-days trips it about once in two thousand builds, loose
    enough that a tracker losing most of one arm's exposures on a day of `tiny` traffic (about 140 units of the
    A/A test in the first week: 73 against 13 gives 42) is caught. The readout in dm_experiment_results flags the whole experiment at p < 0.001; its verdict is shown
    beside each failing day. -#}

with

exposures as (
    select * from {{ ref('stg_lake__experiment_exposures') }}
),

experiments as (
    select * from {{ ref('experiments') }}
),

results as (
    select * from {{ ref('dm_experiment_results') }}
    where is_primary_metric
),

units_by_day as (
    select
        exposures.experiment_id,
        exposures.partition_date,
        experiments.allocation,
        count(distinct case when exposures.variant = 'control' then
            case when experiments.unit = 'user' then exposures.user_id else exposures.session_id end
        end) as control_units,
        count(distinct case when exposures.variant = 'treatment' then
            case when experiments.unit = 'user' then exposures.user_id else exposures.session_id end
        end) as treatment_units
    from exposures
    inner join experiments on exposures.experiment_id = experiments.experiment_id
    group by exposures.experiment_id, exposures.partition_date, experiments.allocation
),

checked as (
    select
        experiment_id,
        partition_date,
        control_units,
        treatment_units,
        power(control_units - (control_units + treatment_units) * (1 - allocation), 2)
        / ((control_units + treatment_units) * (1 - allocation))
        + power(treatment_units - (control_units + treatment_units) * allocation, 2)
        / ((control_units + treatment_units) * allocation) as chi_square
    from units_by_day
    where control_units + treatment_units > 0
),

final as (
    select
        checked.experiment_id,
        checked.partition_date,
        checked.control_units,
        checked.treatment_units,
        checked.chi_square,
        results.verdict
    from checked
    left join results on checked.experiment_id = results.experiment_id
    where checked.chi_square > 23.93
)

select * from final
