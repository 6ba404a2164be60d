with

readouts as (
    select * from {{ ref('int_experiment_readouts') }}
),

experiments as (
    select * from {{ ref('experiments') }}
),

final as (
    select
        cast(readouts.experiment_id as varchar) as experiment_id,
        cast(readouts.metric as varchar) as metric,
        experiments.description,
        cast(readouts.unit as varchar) as unit,
        cast(readouts.test_name as varchar) as test_name,
        cast(readouts.verdict as varchar) as verdict,
        cast(readouts.control_units as bigint) as control_units,
        cast(readouts.treatment_units as bigint) as treatment_units,
        cast(readouts.planned_treatment_share as double) as planned_treatment_share,
        cast(readouts.srm_chi_square as double) as srm_chi_square,
        cast(readouts.srm_p_value as double) as srm_p_value,
        cast(readouts.control_denominator as bigint) as control_denominator,
        cast(readouts.treatment_denominator as bigint) as treatment_denominator,
        cast(readouts.control_value as double) as control_value,
        cast(readouts.treatment_value as double) as treatment_value,
        cast(readouts.absolute_lift as double) as absolute_lift,
        cast(readouts.absolute_lift_lower as double) as absolute_lift_lower_95,
        cast(readouts.absolute_lift_upper as double) as absolute_lift_upper_95,
        cast(readouts.relative_lift as double) as relative_lift,
        cast(readouts.relative_lift_lower as double) as relative_lift_lower_95,
        cast(readouts.relative_lift_upper as double) as relative_lift_upper_95,
        cast(readouts.p_value as double) as p_value,
        cast(readouts.welch_p_value as double) as welch_p_value,
        cast(readouts.mann_whitney_p_value as double) as mann_whitney_p_value,
        cast(readouts.is_primary_metric as boolean) as is_primary_metric,
        cast(readouts.is_srm_flagged as boolean) as is_srm_flagged,
        experiments.start_date,
        experiments.end_date
    from readouts
    inner join experiments on readouts.experiment_id = experiments.experiment_id
)

select * from final
