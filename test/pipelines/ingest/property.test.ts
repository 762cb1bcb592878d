// Property: valid rows always load; a row broken in exactly one way is always
// quarantined with that rule. The generators below are written from the data
// contract's text, independently of the zod contracts the loader is built from.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { memoryWarehouse } from '../../helpers/loader.ts';

const DOMAINS = ['food', 'housing_instability', 'transportation', 'utilities', 'interpersonal_safety', 'housing_quality',
  'financial_strain', 'employment', 'education', 'social_isolation', 'mental_health', 'other'];
const OUTCOMES = ['need_met', 'need_not_met', 'client_declined', 'unable_to_contact', 'ineligible', 'no_capacity', 'other'];
const PEOPLE = ['P1', 'P2', 'P3'];

const messyCase = (s: string) =>
  fc.tuple(fc.constantFrom('', ' ', '  '), fc.constantFrom('lower', 'upper', 'title'), fc.constantFrom('', ' ')).map(([pre, c, post]) =>
    pre + (c === 'upper' ? s.toUpperCase() : c === 'title' ? s.charAt(0).toUpperCase() + s.slice(1) : s) + post);

const day = fc.integer({ min: 0, max: 700 });
const iso = (offset: number) => new Date(Date.UTC(2024, 0, 1) + offset * 86_400_000).toISOString().slice(0, 10);

interface Row { cells: Record<string, string>; breaks: string | null }

/** A valid referral: dates never before referred_on, closing fields consistent with the status. */
const validReferral = fc.record({
  person: fc.constantFrom(...PEOPLE),
  domain: fc.constantFrom(...DOMAINS).chain(messyCase),
  referred: day,
  status: fc.constantFrom('pending', 'accepted', 'rejected', 'in_progress', 'completed', 'cancelled'),
  acceptedAfter: fc.option(fc.integer({ min: 0, max: 30 })),
  servedAfter: fc.option(fc.integer({ min: 0, max: 60 })),
  closedAfter: fc.integer({ min: 0, max: 120 }),
  outcome: fc.constantFrom(...OUTCOMES),
  closeOpen: fc.boolean(),
  // Placeholder tokens (NULL, NA, -, ...) are missing values, not identifiers (issue 13, item 9).
  target: fc.stringMatching(/^[A-Za-z0-9-]{1,64}$/).filter((t) => !['NULL', 'null', 'NA', '-'].includes(t)),
}).map((r): Record<string, string> => {
  const mustClose = ['rejected', 'completed', 'cancelled'].includes(r.status);
  const closed = mustClose || r.closeOpen;
  return {
    person_id: r.person, need_domain: r.domain, referred_on: iso(r.referred), target_org_id: r.target,
    status: r.status, accepted_on: r.acceptedAfter === null ? '' : iso(r.referred + r.acceptedAfter),
    service_started_on: r.servedAfter === null ? '' : iso(r.referred + r.servedAfter),
    closed_on: closed ? iso(r.referred + r.closedAfter) : '', outcome: closed ? r.outcome : '',
  };
});

/** Ways to break a valid referral in exactly one rule. */
const BREAKS: Record<string, (c: Record<string, string>) => Record<string, string>> = {
  missing_required: (c) => ({ ...c, need_domain: '' }),
  bad_date: (c) => ({ ...c, service_started_on: '2024-02-30' }),
  unknown_enum: (c) => ({ ...c, status: 'done' }),
  too_long: (c) => ({ ...c, target_org_id: 'X'.repeat(65) }),
  date_order: (c) => ({ ...c, accepted_on: iso(Math.max(0, Date.parse(c.referred_on!) / 86_400_000 - 19_723 - 1)), referred_on: c.referred_on === iso(0) ? iso(1) : c.referred_on! }),
  orphan: (c) => ({ ...c, person_id: 'NOBODY' }),
};

const row: fc.Arbitrary<Row> = fc.tuple(validReferral, fc.option(fc.constantFrom(...Object.keys(BREAKS)), { freq: 2 })).map(([cells, b]) =>
  ({ cells: b ? BREAKS[b]!(cells) : cells, breaks: b }));

const COLUMNS = ['referral_id', 'person_id', 'need_domain', 'referred_on', 'target_org_id', 'status', 'accepted_on', 'service_started_on', 'closed_on', 'outcome'];
const csvCell = (s: string) => (/[",\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s);


describe('property: the loader enforces the contract', () => {
  it('valid rows load and singly-broken rows are quarantined with their rule', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(row, { minLength: 1, maxLength: 40 }), async (rows) => {
        const store = await memoryWarehouse();
        await store.load('people.csv', `person_id,birth_date,enrolled_from\n${PEOPLE.map((p) => `${p},1980-01-01,2024-01-01`).join('\n')}\n`);
        const lines = rows.map((r, i) => [`R${i}`, ...COLUMNS.slice(1).map((c) => r.cells[c] ?? '')].map(csvCell).join(','));
        await store.load('referrals.csv', `${COLUMNS.join(',')}\n${lines.join('\n')}\n`);
        const loaded = new Set((await store.query<{ id: string }>('SELECT referral_id AS id FROM stg_referrals')).map((r) => r.id));
        const quarantined = new Map((await store.query<{ line: number; rule: string }>(`SELECT line, rule FROM quarantine WHERE entity = 'referrals'`)).map((q) => [q.line, q.rule]));
        rows.forEach((r, i) => {
          if (r.breaks === null) expect(loaded.has(`R${i}`), `row ${i} should load: ${JSON.stringify(r.cells)}`).toBe(true);
          else {
            expect(loaded.has(`R${i}`)).toBe(false);
            expect(quarantined.get(i + 2), `row ${i} (${JSON.stringify(r.cells)})`).toBe(r.breaks);
          }
        });
        store.close();
      }),
      { numRuns: 40 },
    );
  });
});
