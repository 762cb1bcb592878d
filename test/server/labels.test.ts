// The one labels table (issue 16): names written out here by hand from their sources (the
// OMB categories of SPD 15, 2024; the English names of ISO 639-1 codes; the Census names of
// North Carolina's FIPS county codes), never read from server/labels.ts.
import { describe, expect, it } from 'vitest';
import { dimensionLabel, groupLabel } from '../../server/labels.ts';
import { RACE_ETHNICITY } from '../../models/contracts/people.ts';

describe('labels', () => {
  it('race and ethnicity: the OMB category names, for every code of the contract', () => {
    expect(groupLabel('race_ethnicity', 'american_indian_alaska_native')).toBe('American Indian or Alaska Native');
    expect(groupLabel('race_ethnicity', 'black')).toBe('Black or African American');
    expect(groupLabel('race_ethnicity', 'hispanic_latino')).toBe('Hispanic or Latino');
    expect(groupLabel('race_ethnicity', 'native_hawaiian_pacific_islander')).toBe('Native Hawaiian or Pacific Islander');
    expect(groupLabel('race_ethnicity', 'middle_eastern_north_african')).toBe('Middle Eastern or North African');
    expect(groupLabel('race_ethnicity', 'unknown')).toBe('Unknown');
    // no code of the contract is shown as a code
    for (const code of RACE_ETHNICITY) expect(groupLabel('race_ethnicity', code)).not.toMatch(/_/);
  });

  it('languages by their English names; a code with no name stays a code', () => {
    expect(['en', 'es', 'ar', 'vi', 'zh', 'ht', 'so'].map((c) => groupLabel('preferred_language', c))).toEqual(['English', 'Spanish', 'Arabic', 'Vietnamese', 'Chinese', 'Haitian Creole', 'Somali']);
    expect(groupLabel('preferred_language', 'qq')).toBe('qq');
  });

  it('counties by name from FIPS, organizations from the directory, two-way cuts joined', () => {
    expect(groupLabel('county_fips', '37183')).toBe('Wake');
    expect(groupLabel('county_fips', '37119')).toBe('Mecklenburg');
    expect(groupLabel('target_org_id', 'ORG-04', new Map([['ORG-04', 'Homes First NC, Inc.']]))).toBe('Homes First NC, Inc.');
    expect(groupLabel('target_org_id', 'ORG-09', new Map())).toBe('ORG-09');
    expect(groupLabel('race_ethnicity*payer', 'black*medicaid')).toBe('Black or African American × Medicaid');
    expect(groupLabel('domain*county_fips', 'housing_instability*37063')).toBe('Housing instability × Durham');
    expect(groupLabel('domain', 'food')).toBe('Food');
  });

  it('dimension names for the dictionary\'s "Cut by", never snake_case', () => {
    expect(dimensionLabel('race_ethnicity*payer')).toBe('Race and ethnicity × payer');
    expect(dimensionLabel('preferred_language')).toBe('Preferred language');
    expect(dimensionLabel('target_org_id*county_fips')).toBe('Partner organization × County');
  });
});

describe('codes that are names of Object.prototype members (a fuzzed export hung on dimension "valueOf")', () => {
  it('label as text, never as the prototype function', () => {
    expect(dimensionLabel('valueOf')).toBe('valueOf');
    expect(dimensionLabel('constructor*toString')).toBe('constructor × toString');
    expect(groupLabel('race_ethnicity', 'constructor')).toBe('constructor');
    expect(groupLabel('sex', 'hasOwnProperty')).toBe('HasOwnProperty');
    expect(typeof groupLabel('valueOf', '__proto__')).toBe('string');
    expect(groupLabel('valueOf', '__proto__')).not.toMatch(/function|native code/);
  });
});
