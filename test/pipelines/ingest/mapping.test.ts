// The worked mapping example (data/mappings/helplink.json) loads the platform's
// sample export unedited; every mapped value is checked row by row.
import { cpSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { globMatches, planColumns } from '../../../pipelines/ingest/mapping.ts';
import { tempStore } from '../../helpers/store.ts';

const repo = new URL('../../../', import.meta.url).pathname;
const store = tempStore();
afterAll(() => store.cleanup());

describe('column mappings', () => {
  it('loads the HelpLink sample export with its own headers, status words and US dates', async () => {
    mkdirSync(join(store.root, 'mappings'));
    cpSync(join(repo, 'data/mappings/helplink.json'), join(store.root, 'mappings/helplink.json'));
    store.copy(join(repo, 'data/examples/helplink/CaseExport_2026-10.csv'));
    store.add('people.csv', 'person_id,birth_date,enrolled_from\nP0001,1980-01-01,2024-01-01\nP0002,1970-01-01,2024-01-01\nP0003,1990-01-01,2024-01-01\nP0004,2001-01-01,2024-01-01\n');
    const s = await store.run();
    const report = s.files.find((f) => f.file === 'CaseExport_2026-10.csv')!;
    expect(report).toMatchObject({ entity: 'referrals', rows_read: 9, rows_loaded: 8, rows_quarantined: 1, extra_columns: ['Case Worker Notes'] });
    const got = await store.warehouse(`SELECT referral_id, person_id, need_domain, referred_on, source_org_id, target_org_id, program_id,
      status, accepted_on, service_started_on, closed_on, outcome FROM stg_referrals ORDER BY referral_id`);
    expect(got).toEqual([
      { referral_id: 'HL-1001', person_id: 'P0001', need_domain: 'food', referred_on: '2026-09-01', source_org_id: 'CLINIC-A', target_org_id: 'ORG-03', program_id: 'PRG-031', status: 'completed', accepted_on: '2026-09-02', service_started_on: '2026-09-05', closed_on: '2026-09-20', outcome: 'need_met' },
      { referral_id: 'HL-1002', person_id: 'P0002', need_domain: 'housing_instability', referred_on: '2026-09-03', source_org_id: 'CLINIC-A', target_org_id: 'ORG-07', program_id: null, status: 'completed', accepted_on: null, service_started_on: null, closed_on: '2026-10-01', outcome: 'unable_to_contact' },
      { referral_id: 'HL-1003', person_id: 'P0003', need_domain: 'transportation', referred_on: '2026-09-10', source_org_id: 'CLINIC-B', target_org_id: 'ORG-11', program_id: 'PRG-110', status: 'pending', accepted_on: null, service_started_on: null, closed_on: null, outcome: null },
      { referral_id: 'HL-1004', person_id: 'P0001', need_domain: 'utilities', referred_on: '2026-09-12', source_org_id: 'CLINIC-A', target_org_id: 'ORG-05', program_id: 'PRG-051', status: 'rejected', accepted_on: null, service_started_on: null, closed_on: '2026-09-15', outcome: 'no_capacity' },
      { referral_id: 'HL-1005', person_id: 'P0004', need_domain: 'housing_instability', referred_on: '2026-09-15', source_org_id: 'CLINIC-B', target_org_id: 'ORG-07', program_id: 'PRG-070', status: 'in_progress', accepted_on: '2026-09-16', service_started_on: '2026-09-25', closed_on: null, outcome: null },
      { referral_id: 'HL-1006', person_id: 'P0002', need_domain: 'food', referred_on: '2026-09-20', source_org_id: 'CLINIC-A', target_org_id: 'ORG-03', program_id: 'PRG-031', status: 'cancelled', accepted_on: '2026-09-21', service_started_on: null, closed_on: '2026-09-30', outcome: 'client_declined' },
      { referral_id: 'HL-1007', person_id: 'P0003', need_domain: 'employment', referred_on: '2026-10-02', source_org_id: 'CLINIC-B', target_org_id: 'ORG-12', program_id: null, status: 'rejected', accepted_on: null, service_started_on: null, closed_on: '2026-10-04', outcome: 'ineligible' },
      { referral_id: 'HL-1008', person_id: 'P0004', need_domain: 'interpersonal_safety', referred_on: '2026-10-05', source_org_id: 'CLINIC-B', target_org_id: 'ORG-14', program_id: 'PRG-140', status: 'accepted', accepted_on: '2026-10-06', service_started_on: null, closed_on: null, outcome: null },
    ]);
    const q = await store.warehouse(`SELECT line, rule, column_name, message FROM quarantine`);
    expect(q).toEqual([{ line: 10, rule: 'unmapped_value', column_name: 'Case Status', message: `Case Status 'Referred out' is not covered by the mapping` }]);
  });

  it('loads the eligibility sample export as coverage: a gap, a payer change, a contradiction quarantined', async () => {
    const s2 = tempStore();
    try {
      mkdirSync(join(s2.root, 'mappings'));
      cpSync(join(repo, 'data/mappings/eligibility.json'), join(s2.root, 'mappings/eligibility.json'));
      s2.copy(join(repo, 'data/examples/eligibility/EligibilitySpans_2026-10.csv'));
      s2.add('people.csv', `person_id,birth_date\n${['M0001', 'M0002', 'M0003', 'M0004', 'M0005'].map((m) => `${m},1980-01-01`).join('\n')}\n`);
      const s = await s2.run();
      const report = s.files.find((f) => f.file === 'EligibilitySpans_2026-10.csv')!;
      expect(report).toMatchObject({ entity: 'coverage', rows_read: 8, rows_loaded: 5, rows_quarantined: 3, extra_columns: ['County'] });
      expect(await s2.warehouse(`SELECT person_id, coverage_from, coverage_through, payer, program_id, plan_id FROM stg_coverage ORDER BY 1, 2`)).toEqual([
        { person_id: 'M0001', coverage_from: '2025-01-01', coverage_through: '2025-06-30', payer: 'medicaid', program_id: 'ACO-01', plan_id: 'NC-MEDICAID-TP' },
        { person_id: 'M0001', coverage_from: '2025-09-01', coverage_through: '9999-12-31', payer: 'medicaid', program_id: 'ACO-01', plan_id: 'NC-MEDICAID-TP' },
        { person_id: 'M0002', coverage_from: '2025-01-01', coverage_through: '2026-03-31', payer: 'medicaid', program_id: 'ACO-02', plan_id: 'NC-MEDICAID-TP' },
        { person_id: 'M0002', coverage_from: '2026-04-01', coverage_through: '9999-12-31', payer: 'commercial', program_id: 'ACO-02', plan_id: 'BCBS-PPO' },
        { person_id: 'M0003', coverage_from: '2025-02-01', coverage_through: '9999-12-31', payer: 'medicaid', program_id: 'ACO-01', plan_id: 'NC-CHIP' },
      ]);
      expect(await s2.warehouse(`SELECT line, rule, column_name FROM quarantine ORDER BY line`)).toEqual([
        { line: 7, rule: 'coverage_conflict', column_name: 'coverage_from' },
        { line: 8, rule: 'coverage_conflict', column_name: 'coverage_from' },
        { line: 9, rule: 'unmapped_value', column_name: 'Coverage Type' },
      ]);
    } finally {
      s2.cleanup();
    }
  });

  it('globs match file names case-insensitively, * and ? only', () => {
    expect(globMatches('CaseExport*.csv', 'caseexport_2026-10.CSV')).toBe(true);
    expect(globMatches('CaseExport*.csv', 'CaseExport.csv.gz')).toBe(false);
    expect(globMatches('x?.csv', 'x1.csv')).toBe(true);
    expect(globMatches('a.b*', 'axb1')).toBe(false);
  });

  it('a mapping that names a column the file lacks, or a target outside the contract, is a clear error', () => {
    expect(() => planColumns(['referral_id'], ['A'], { entity: 'referrals', files: 'x', columns: { B: 'referral_id' } }))
      .toThrow('the mapping names source column "B", which the file does not have');
    expect(() => planColumns(['referral_id'], ['A'], { entity: 'referrals', files: 'x', columns: { A: 'nope' } }))
      .toThrow('the mapping targets "nope", which is not a column of this entity');
  });
});
