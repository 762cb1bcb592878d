-- The gap table (metrics.md, "Service gaps"): need domain x county cells over the whole
-- span, ranked by unmet positive needs (needs whose 90-day window elapsed minus those met),
-- then by unmet_need_rate, with the cell's service-gap figures and the directory programs
-- serving it. Cells: every domain x county row of the service-gap metrics.
WITH cells AS (
  SELECT split_part(group_value, '*', 1) AS domain, split_part(group_value, '*', 2) AS county_fips,
    metric_id, numerator, denominator, value, ci_low, ci_high, note, period_start, period_end
  FROM metric_results
  WHERE period_grain = 'all' AND dimension = 'domain*county_fips'
    AND metric_id IN ('positive_needs', 'unmet_need_rate', 'capacity_rejection_share', 'demand_capacity_ratio')
),
wide AS (
  SELECT domain, county_fips,
    min(period_start) AS period_start,
    max(period_end) AS period_end,
    max(numerator) FILTER (WHERE metric_id = 'positive_needs') AS positive_needs,
    max(denominator) FILTER (WHERE metric_id = 'unmet_need_rate') AS needs_measurable,
    max(numerator) FILTER (WHERE metric_id = 'unmet_need_rate') AS unmet_needs,
    max(value) FILTER (WHERE metric_id = 'unmet_need_rate') AS unmet_need_rate,
    max(ci_low) FILTER (WHERE metric_id = 'unmet_need_rate') AS unmet_ci_low,
    max(ci_high) FILTER (WHERE metric_id = 'unmet_need_rate') AS unmet_ci_high,
    max(numerator) FILTER (WHERE metric_id = 'capacity_rejection_share') AS no_capacity_referrals,
    max(denominator) FILTER (WHERE metric_id = 'capacity_rejection_share') AS closed_not_met_referrals,
    max(value) FILTER (WHERE metric_id = 'capacity_rejection_share') AS capacity_rejection_share,
    max(denominator) FILTER (WHERE metric_id = 'demand_capacity_ratio') AS capacity_months,
    max(value) FILTER (WHERE metric_id = 'demand_capacity_ratio') AS demand_capacity_ratio,
    max(note) FILTER (WHERE metric_id = 'demand_capacity_ratio') AS capacity_note
  FROM cells
  GROUP BY domain, county_fips
),
programs AS (
  SELECT domain, county_fips,
    count(*) AS serving_programs,
    count(*) FILTER (WHERE monthly_capacity IS NULL) AS programs_capacity_unknown,
    sum(monthly_capacity) AS known_monthly_capacity,
    string_agg(program_name || ' (' || org_name || '; ' || program_id || ')', ' | ' ORDER BY program_name, program_id) AS programs
  FROM stg_services
  GROUP BY domain, county_fips
)
SELECT
  row_number() OVER (ORDER BY coalesce(w.unmet_needs, 0) DESC, w.unmet_need_rate DESC NULLS LAST, w.domain, w.county_fips)::INTEGER AS rank,
  w.domain,
  w.county_fips,
  w.period_start,
  w.period_end,
  coalesce(w.positive_needs, 0) AS positive_needs,
  coalesce(w.needs_measurable, 0) AS needs_measurable,
  coalesce(w.needs_measurable, 0) - coalesce(w.unmet_needs, 0) AS needs_met,
  coalesce(w.unmet_needs, 0) AS unmet_needs,
  w.unmet_need_rate,
  w.unmet_ci_low,
  w.unmet_ci_high,
  w.no_capacity_referrals,
  w.closed_not_met_referrals,
  w.capacity_rejection_share,
  w.capacity_months,
  w.demand_capacity_ratio,
  w.capacity_note,
  coalesce(p.serving_programs, 0) AS serving_programs,
  coalesce(p.programs_capacity_unknown, 0) AS programs_capacity_unknown,
  p.known_monthly_capacity,
  p.programs,
  {{run_id}} AS run_id,
  {{as_of}} AS as_of
FROM wide w
LEFT JOIN programs p USING (domain, county_fips)
ORDER BY rank
