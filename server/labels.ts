// The one labels table (issue 16): the words every chart legend, table, export label column
// and the dictionary use for a dimension and its group values. Codes stay in the data
// columns (group_value, county_fips, domain); labels are only ever added beside them.
//   race and ethnicity   the OMB categories' names (SPD 15, 2024)
//   preferred language   the language's English name from its ISO 639 code (Intl.DisplayNames, CLDR)
//   county               the county's name from its FIPS code (us-atlas)
//   partner organization the organization's name from the published service directory
// Anything else (payer, sex, rurality, need domain) is its value in words.
import { countyName } from './geo.ts';

/** Dimension labels for people (the data dictionary's words). */
export const DIMENSION_LABELS: Record<string, string> = {
  all: 'Everyone',
  race_ethnicity: 'Race and ethnicity',
  preferred_language: 'Preferred language',
  limited_english: 'Limited English',
  sex: 'Sex',
  age_band: 'Age band',
  payer: 'Payer',
  rurality: 'Rurality',
  county_fips: 'County',
  zip3: 'ZIP3',
  program_id: 'Attributed program',
  target_org_id: 'Partner organization',
  domain: 'Need domain',
  'race_ethnicity*payer': 'Race and ethnicity × payer',
  'domain*county_fips': 'Need domain × county',
};

/** A table's own entry only: a code such as `valueOf` or `constructor` must not find Object.prototype's (a fuzzed export hung on one). */
const own = <T>(table: Record<string, T> | undefined, key: string): T | undefined => (table && Object.hasOwn(table, key) ? table[key] : undefined);

export const dimensionLabel = (d: string) => own(DIMENSION_LABELS, d) ?? d.split('*').map((x) => own(DIMENSION_LABELS, x) ?? x.replaceAll('_', ' ')).join(' × ');

/** OMB race and ethnicity categories (SPD 15, 2024 revision), by the contract's codes. */
export const RACE_ETHNICITY_LABELS: Record<string, string> = {
  hispanic_latino: 'Hispanic or Latino',
  white: 'White',
  black: 'Black or African American',
  asian: 'Asian',
  american_indian_alaska_native: 'American Indian or Alaska Native',
  native_hawaiian_pacific_islander: 'Native Hawaiian or Pacific Islander',
  middle_eastern_north_african: 'Middle Eastern or North African',
  multiracial: 'Multiracial (two or more)',
  other: 'Another race or ethnicity',
};

const WORDS: Record<string, Record<string, string>> = {
  payer: { medicaid: 'Medicaid', medicare: 'Medicare', dual: 'Dual Medicare-Medicaid', commercial: 'Commercial', uninsured: 'Uninsured', other: 'Other payer' },
  sex: { female: 'Female', male: 'Male', other: 'Other' },
  rurality: { urban: 'Urban', rural: 'Rural' },
  limited_english: { yes: 'Limited English', no: 'English' },
  domain: { housing_instability: 'Housing instability', interpersonal_safety: 'Interpersonal safety', housing_quality: 'Housing quality', financial_strain: 'Financial strain', social_isolation: 'Social isolation', mental_health: 'Mental health' },
};

const languageNames = new Intl.DisplayNames(['en'], { type: 'language', fallback: 'code' });

/** Organization id -> name (the published service directory's). */
export type OrgNames = ReadonlyMap<string, string>;

const sentence = (s: string) => s.charAt(0).toUpperCase() + s.slice(1).replaceAll('_', ' ');

/** The label of one group value of a one-way dimension. */
function oneLabel(dimension: string, value: string, orgs?: OrgNames): string {
  if (value === 'unknown') return 'Unknown';
  if (dimension === 'all') return 'Everyone';
  switch (dimension) {
    case 'race_ethnicity':
      return own(RACE_ETHNICITY_LABELS, value) ?? value;
    case 'preferred_language':
      return /^[a-z]{2,3}$/.test(value) ? languageNames.of(value) ?? value : value;
    case 'county_fips':
      return countyName(value);
    case 'target_org_id':
      return orgs?.get(value) ?? value;
    case 'program_id':
    case 'zip3':
    case 'age_band':
      return value;
    default:
      return own(own(WORDS, dimension), value) ?? sentence(value);
  }
}

/** The label of a group value: "Black or African American × Medicaid" for race_ethnicity*payer. */
export function groupLabel(dimension: string, value: string, orgs?: OrgNames): string {
  if (dimension === 'all') return 'Everyone';
  const dims = dimension.split('*');
  const values = value.split('*');
  if (dims.length !== values.length) return value;
  return dims.map((d, i) => oneLabel(d, values[i]!, orgs)).join(' × ');
}
