// Issue 20, done when: the same population as a CSV drop and as its FHIR Bulk Data
// equivalent gives the same published figures (fast tier: a small population; the
// full tier runs a larger one in fhirEquivalence.full.test.ts).
import { describe, expect, it } from 'vitest';
import { compareDrops } from './fhirEquivalence.ts';

describe('FHIR drop vs CSV drop (closeloop run on both)', () => {
  it('publishes the same results tables, row for row, for 80 demo people', async () => {
    const r = await compareDrops(80, 11);
    expect(r.counts.screenings).toBeGreaterThan(100);
    expect(r.counts.encounters).toBeGreaterThan(100);
    expect(r.counts.referrals).toBeGreaterThan(50); // from ServiceRequest + Task in the FHIR drop
    expect(r.phq9WithItems).toBeGreaterThan(0);
    expect(r.metricRows).toBeGreaterThan(500);
    expect(r.counts.services).toBeGreaterThan(100); // from the HSDS package in the non-CSV drop
    expect(r.servicesWithCapacity).toBeGreaterThan(0); // single-county programs keep their capacity
    expect(r.hsdsQuarantined).toBe(2); // social_isolation and other: no taxonomy term maps to them
  }, 240_000);
});
