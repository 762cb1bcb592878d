// Issue 20, done when (full tier): a larger population as a CSV drop and as its FHIR
// Bulk Data equivalent publishes the same results tables, row for row.
import { describe, expect, it } from 'vitest';
import { compareDrops } from './fhirEquivalence.ts';

describe('FHIR drop vs CSV drop, 3,000 demo people (closeloop run on both)', () => {
  it('publishes the same results tables, row for row', async () => {
    const r = await compareDrops(3000, 5);
    expect(r.counts.people).toBeGreaterThan(2900);
    expect(r.counts.referrals).toBeGreaterThan(0);
    expect(r.phq9WithItems).toBeGreaterThan(0);
    expect(r.metricRows).toBeGreaterThan(1000);
  }, 900_000);
});
