// What `closeloop contract` and `closeloop metrics` print, through the real binary: the
// coverage entity and its rule, and the dictionary's fidelity table for every mirrored measure.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { METRICS } from '../../models/metrics/catalog.ts';

const BIN = new URL('../../bin/closeloop.js', import.meta.url).pathname;
const run = (...args: string[]) => execFileSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });

describe('the documentation commands', () => {
  it('closeloop contract describes coverage, the roster span and coverage_conflict', () => {
    const md = run('contract');
    expect(md).toContain('## coverage');
    expect(md).toContain('Key: person_id + coverage_from.');
    expect(md).toMatch(/\| coverage_from\* \| date \|/);
    expect(md).toMatch(/\| enrolled_from \| date \| start of the roster's coverage span/); // optional now
    expect(md).toContain('- `missing_required`: enrolled_from is required when enrolled_through is set');
    expect(md).toMatch(/\| `coverage_conflict` \| a coverage span .* two payers, or two programs, on one day \|/);
    expect(md).toMatch(/\| encounter_type\* \| enum\(ed, inpatient, outpatient, primary_care, behavioral_health, hospice, other\)/);
  });

  it('closeloop metrics prints the fidelity table: every mirrored measure, every difference', () => {
    const md = run('metrics');
    const table = md.slice(md.indexOf('## Fidelity to the measures mirrored'));
    expect(table.length).toBeGreaterThan(100);
    for (const measure of ['CMS SDOH-1', 'CMS SDOH-2', 'HEDIS SNS-E', 'MIPS quality measure #498', 'HEDIS DRR-E']) expect(table).toContain(measure);
    const differences = METRICS.flatMap((m) => m.fidelity?.differs ?? []);
    for (const d of differences) expect(table).toContain(d.why);
  });
});
