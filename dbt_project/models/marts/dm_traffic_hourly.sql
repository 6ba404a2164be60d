with

sessions as (
    select * from {{ ref('int_events_sessionized') }}
),

hours as (
    select generated_number - 1 as hour_of_day
    from ({{ dbt.generate_series(24) }}) as series
),

weekdays as (
    select
        session_weekday as weekday,  -- noqa: RF04
        count(distinct session_date) as days_observed
    from sessions
    group by session_weekday
),

traffic as (
    select
        session_weekday as weekday,  -- noqa: RF04
        session_hour as hour_of_day,
        count(*) as sessions,
        cast(sum(events) as bigint) as events,
        cast(sum(purchases) as bigint) as purchases
    from sessions
    group by session_weekday, session_hour
),

final as (
    select
        case weekdays.weekday
            when 1 then 'Monday'
            when 2 then 'Tuesday'
            when 3 then 'Wednesday'
            when 4 then 'Thursday'
            when 5 then 'Friday'
            when 6 then 'Saturday'
            else 'Sunday'
        end as weekday_name,
        weekdays.weekday,
        cast(hours.hour_of_day as integer) as hour,  -- noqa: RF04
        weekdays.days_observed,
        coalesce(traffic.sessions, 0) as sessions,
        coalesce(traffic.events, 0) as events,
        coalesce(traffic.purchases, 0) as purchases,
        {{ ratio('coalesce(traffic.sessions, 0)', 'weekdays.days_observed') }} as average_sessions_per_day,
        {{ ratio('coalesce(traffic.purchases, 0)', 'traffic.sessions') }} as conversion_rate
    from weekdays
    cross join hours
    left join traffic
        on
            weekdays.weekday = traffic.weekday
            and hours.hour_of_day = traffic.hour_of_day
)

select * from final
