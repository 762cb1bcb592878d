// Hole in the partners' view (server/data/partnerView.ts, issue 14 route 7): partnerSql
// rewrote `FROM|JOIN metric_results` (and km_curves, gap_table) only when the table name
// followed the keyword directly, so a query naming the table another way (qualified with its
// schema, quoted, after a comma, after a comment) read the publication around the view. No
// route writes such SQL today; the next one to do so would hand partners what their view
// withholds. The view now rewrites the qualified and quoted forms and refuses any other
// mention of those tables (fails closed).
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readPointer, storePaths } from '../../pipelines/store.ts';
import { Generation } from '../../server/generation.ts';
import { partnerView } from '../../server/data/partnerView.ts';
import { publishedFixture, type PublishedFixture } from '../helpers/publishedFixture.ts';

let fx: PublishedFixture;
let gen: Generation;

beforeAll(async () => {
  fx = await publishedFixture({ partnerWithheld: [['ORG-01', 'closed_loop_rate', 'interpersonal_safety'], ['ORG-01', 'capacity_rejection_share', 'interpersonal_safety']] });
  const p = storePaths(fx.root);
  const pointer = (await readPointer(p))!;
  gen = await Generation.open(pointer, join(p.publishedDir, pointer.published), { threads: 1 });
});
afterAll(() => {
  gen?.close();
  fx?.cleanup();
});

const SAFETY = `r.metric_id = 'closed_loop_rate' AND r.period_grain = 'all' AND r.dimension = 'domain' AND r.group_value = 'interpersonal_safety'`;

describe('hole: partnerSql missed the results table named other than right after FROM/JOIN', () => {
  it('the evaluator reads safety\'s figures; the partner\'s plain query does not', async () => {
    const e = await gen.query<{ d: number | null }>(`SELECT r.denominator AS d FROM metric_results r WHERE ${SAFETY}`);
    expect(e[0]!.d).toBeGreaterThan(0);
    const p = await partnerView(gen, 'ORG-01').query<{ d: number | null }>(`SELECT r.denominator AS d FROM metric_results r WHERE ${SAFETY}`);
    expect(p[0]!.d).toBeNull();
  });

  const spellings: Array<[string, string]> = [
    ['schema-qualified', `SELECT r.denominator AS d FROM main.metric_results r WHERE ${SAFETY}`],
    ['quoted', `SELECT r.denominator AS d FROM "metric_results" r WHERE ${SAFETY}`],
    ['quoted and qualified', `SELECT r.denominator AS d FROM "main"."metric_results" r WHERE ${SAFETY}`],
    ['after a comma', `SELECT r.denominator AS d FROM run_info i, metric_results r WHERE ${SAFETY}`],
    ['after a comment', `SELECT r.denominator AS d FROM /* the results */ metric_results r WHERE ${SAFETY}`],
    ['gap table after a comma', `SELECT g.closed_not_met_referrals AS d FROM run_info i, gap_table g WHERE g.domain = 'interpersonal_safety' AND g.closed_not_met_referrals IS NOT NULL`],
  ];
  for (const [how, sql] of spellings) {
    it(`${how}: rewritten through the view or refused, never read around it`, async () => {
      let got: Array<{ d: number | null }> | Error;
      try {
        got = await partnerView(gen, 'ORG-01').query<{ d: number | null }>(sql);
      } catch (err) {
        got = err as Error;
      }
      if (got instanceof Error) expect(got.message).toMatch(/partner view/);
      else for (const r of got) expect(r.d, how).toBeNull();
    });
  }

  it('a table name inside a string literal is no read (the routes ask information_schema this way)', async () => {
    const r = await partnerView(gen, 'ORG-01').query<{ n: number }>(`SELECT count(*)::INTEGER AS n FROM information_schema.columns WHERE table_name = 'metric_results' AND column_name = 'numerator'`);
    expect(r[0]!.n).toBe(1);
  });
});
