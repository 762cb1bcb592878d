// Dimensions a metric can be cut by (metrics.md, "Population dimensions"), and the SQL
// that turns a person's attributes into a group value. Ages are whole years, compared on
// yyyymmdd integer keys: (key(date) - key(birth)) >= 180000 <=> aged 18 or more on date.

/** Attributes of the people row (int_person_attributes), in the order they are listed. */
export const POPULATION_DIMENSIONS = [
  'race_ethnicity',
  'preferred_language',
  'limited_english',
  'sex',
  'age_band',
  'payer',
  'rurality',
  'county_fips',
  'zip3',
  'program_id',
] as const;
export type PopulationDimension = (typeof POPULATION_DIMENSIONS)[number];

/** Dimensions a fact row carries itself: the need domain and the organization asked to serve. */
export const FACT_DIMENSIONS = ['domain', 'target_org_id'] as const;
export type FactDimension = (typeof FACT_DIMENSIONS)[number];

export type OneWayDimension = PopulationDimension | FactDimension;

/** The two-way cut every metric with population dimensions gets (metrics.md). */
export const DEFAULT_TWO_WAY_CUT = 'race_ethnicity*payer';
/** The service-gap cell: need domain x the person's county. */
export const DOMAIN_COUNTY_CUT = 'domain*county_fips';

/** Age bands (data-contract.md), lower bound inclusive; ages over 89 only ever inside 65+. */
export const AGE_BANDS = [
  { band: '0-17', from: 0 },
  { band: '18-25', from: 18 },
  { band: '26-44', from: 26 },
  { band: '45-64', from: 45 },
  { band: '65+', from: 65 },
] as const;
export const AGE_BAND_THRESHOLDS = AGE_BANDS.slice(1).map((b) => b.from);

export function isPopulationDimension(d: string): d is PopulationDimension {
  return (POPULATION_DIMENSIONS as readonly string[]).includes(d);
}

export function isOneWayDimension(d: string): d is OneWayDimension {
  return isPopulationDimension(d) || (FACT_DIMENSIONS as readonly string[]).includes(d);
}

/** The one-way parts of a dimension name: [] for `all`, [d] for a one-way cut, [a, b] for `a*b`. */
export function dimensionParts(dimension: string): string[] {
  return dimension === 'all' ? [] : dimension.split('*');
}

/** yyyymmdd integer of a DATE expression. */
export function dateKeySql(date: string): string {
  return `(year(${date}) * 10000 + month(${date}) * 100 + day(${date}))`;
}

/** Age band of a person with birth key `birthKey` on the date whose key is `dateKey`. */
export function ageBandSql(dateKey: string, birthKey: string): string {
  const diff = `(${dateKey} - ${birthKey})`;
  const whens = AGE_BANDS.slice(1)
    .map((b, i) => `WHEN ${diff} < ${b.from * 10000} THEN '${AGE_BANDS[i]?.band}'`)
    .join(' ');
  return `CASE ${whens} ELSE '${AGE_BANDS[AGE_BANDS.length - 1]?.band}' END`;
}
