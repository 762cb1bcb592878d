// Route 7 of issue 14 (partner self-subtraction): what a partner's view withholds, on tables
// small enough to work the attack out by hand.
import { describe, expect, it } from 'vitest';
import { COMPLEMENT_DOMAIN, decidePartnerWithholding, SOLE_DOMAIN, SOLE_METRIC, SOLE_NEED, type PartnerFigures } from '../../../models/disclosure/partners.ts';

/** [numerator, denominator, complement] */
const q = (n: number, d: number) => [n, d, d - n];

function figures(directory: Record<string, string[]>, orgs: Record<string, Record<string, number[]>>, domains: Record<string, Record<string, number[]>>): PartnerFigures {
  return {
    directory: new Map(Object.entries(directory).map(([d, o]) => [d, new Set(o)])),
    orgs: new Map(Object.entries(orgs).map(([m, v]) => [m, new Map(Object.entries(v))])),
    domains: new Map(Object.entries(domains).map(([m, v]) => [m, new Map(Object.entries(v))])),
  };
}

const of = (w: ReturnType<typeof decidePartnerWithholding>, org: string) => w.filter((x) => x.org_id === org).map((x) => `${x.metric_id}:${x.domain ?? '*'}`).sort();

describe('partner withholding (route 7: a partner subtracts its own units)', () => {
  // food: A, B, C; safety: D alone; transport: E alone. closed_loop_rate has units everywhere.
  const directory = { food: ['A', 'B', 'C'], safety: ['D'], transport: ['E'] };
  const orgs = { closed_loop_rate: { A: q(10, 30), B: q(5, 20), C: q(7, 25), D: q(3, 12), E: q(4, 14) } };
  const domains = { closed_loop_rate: { food: q(22, 75), safety: q(3, 12), transport: q(4, 14), legal: q(0, 0) } };

  it('a domain only one other organisation serves is withheld; its sum with another such domain mixes two', () => {
    const w = decidePartnerWithholding(figures(directory, orgs, domains));
    // By hand, partner A: safety's 12 referrals can only be D's, so the area's safety row is D's
    // row; transport is E's. Both withheld; together their sum (26) could be D's or E's.
    expect(of(w, 'A')).toEqual(['closed_loop_rate:safety', 'closed_loop_rate:transport']);
    expect(w.filter((x) => x.org_id === 'A').every((x) => x.reason === SOLE_DOMAIN)).toBe(true);
    // D itself: safety is its own (area minus own = 0), transport is E's alone: withheld, and
    // alone it would be `all` minus the shown domains, so food (A, B, C) joins it.
    expect(of(w, 'D')).toEqual(['closed_loop_rate:food', 'closed_loop_rate:transport']);
    expect(w.find((x) => x.org_id === 'D' && x.domain === 'food')!.reason).toBe(COMPLEMENT_DOMAIN);
  });

  it('need metrics a referral moves are withheld in the same domains (the needs-met residual)', () => {
    // Partner A knows which positive needs it was referred: need_referral_rate's safety
    // numerator minus A's own (none) is the number of safety needs D was referred within 30
    // days, D's figure. By hand the domains are the referral metrics' (safety, transport for
    // A; transport and the complement food for D); positive_needs moves with no referral and
    // is not given to the rule.
    const w = decidePartnerWithholding({ ...figures(directory, orgs, domains), needMetrics: ['need_referral_rate', 'unmet_need_rate'] });
    expect(of(w, 'A')).toEqual(['closed_loop_rate:safety', 'closed_loop_rate:transport', 'need_referral_rate:safety', 'need_referral_rate:transport', 'unmet_need_rate:safety', 'unmet_need_rate:transport']);
    expect(w.filter((x) => x.org_id === 'A' && x.metric_id !== 'closed_loop_rate').every((x) => x.reason === SOLE_NEED)).toBe(true);
    expect(of(w, 'D')).toEqual(['closed_loop_rate:food', 'closed_loop_rate:transport', 'need_referral_rate:food', 'need_referral_rate:transport', 'unmet_need_rate:food', 'unmet_need_rate:transport']);
    expect(w.find((x) => x.org_id === 'D' && x.metric_id === 'unmet_need_rate' && x.domain === 'food')!.reason).toBe(COMPLEMENT_DOMAIN);
    // one other organisation in every domain: the referral metric is withheld whole, and the need metrics too
    const two = decidePartnerWithholding({ ...figures({ food: ['G', 'H'] }, { closed_loop_rate: { G: q(5, 20), H: q(6, 21) } }, { closed_loop_rate: { food: q(11, 41) } }), needMetrics: ['need_referral_rate'] });
    expect(of(two, 'G')).toEqual(['closed_loop_rate:*', 'need_referral_rate:*']);
  });

  it('a domain with no units of the other organisation is shown (zero may be derived)', () => {
    const w = decidePartnerWithholding(figures(directory, { closed_loop_rate: { ...orgs.closed_loop_rate, E: q(0, 0) } },
      { closed_loop_rate: { ...domains.closed_loop_rate, transport: q(0, 0) } }));
    // A: transport has no units, so E's figure is 0 whatever A derives: shown. Safety is D's
    // alone and has to be mixed with another organisation's domain: food (B, C), which has
    // units, rather than transport, whose zero another table could give away.
    expect(of(w, 'A')).toEqual(['closed_loop_rate:food', 'closed_loop_rate:safety']);
    expect(w.find((x) => x.org_id === 'A' && x.domain === 'food')!.reason).toBe(COMPLEMENT_DOMAIN);
  });

  it('a metric whose units can come from one other organisation only is withheld whole (the enrollment finding)', () => {
    // enrollment_after_referral_rate counts transport referrals only, served by G and H: for G,
    // the area's row minus its own is H's row, at every grain and by every dimension.
    const f = figures({ food: ['A', 'B'], transport: ['G', 'H'] },
      { enrollment_after_referral_rate: { G: q(54, 174), H: q(62, 167), A: q(0, 0), B: q(0, 0) } },
      { enrollment_after_referral_rate: { transport: q(116, 341), food: q(0, 0) } });
    const w = decidePartnerWithholding(f);
    expect(of(w, 'G')).toEqual(['enrollment_after_referral_rate:*']);
    expect(w.find((x) => x.org_id === 'G')!.reason).toBe(SOLE_METRIC);
    expect(of(w, 'H')).toEqual(['enrollment_after_referral_rate:*']);
    // A and B hold nothing of it: the area's 341 could be G's or H's in any split.
    expect(of(w, 'A')).toEqual([]);
    expect(of(w, 'B')).toEqual([]);
  });

  it('every domain served by two or more other organisations: nothing withheld', () => {
    const f = figures({ food: ['A', 'B', 'C'], housing: ['B', 'C'] },
      { closed_loop_rate: { A: q(1, 20), B: q(3, 30), C: q(4, 40) } },
      { closed_loop_rate: { food: q(5, 60), housing: q(3, 30) } });
    const w = decidePartnerWithholding(f);
    expect(of(w, 'A')).toEqual([]);
    // B: housing's other organisation is C alone -> withheld; alone it is `all` minus food, so
    // food (A, C) joins it... but food brings A, another organisation, so the pair mixes A and C.
    expect(of(w, 'B')).toEqual(['closed_loop_rate:food', 'closed_loop_rate:housing']);
  });

  it('brute force: with the withholding, no other organisation\'s figure is determined; without it, one is', () => {
    // Small counts so every integer table can be listed. Partner A (own 2 referrals, all food).
    // Others: B 2 and C 1 in food, D 2 in safety, E 1 in transport. A sees the area's domain
    // rows it is not denied, minus its own; a withheld set of domains shows as one sum
    // (`all` minus the shown domains).
    const dir = { food: ['A', 'B', 'C'], safety: ['D'], transport: ['E'] };
    const truth: Record<string, Record<string, number>> = { food: { B: 2, C: 1 }, safety: { D: 2 }, transport: { E: 1 } };
    const f = figures(dir, { closed_loop_rate: { A: [0, 2, 2], B: [0, 2, 2], C: [0, 1, 1], D: [0, 2, 2], E: [0, 1, 1] } },
      { closed_loop_rate: { food: [0, 5, 5], safety: [0, 2, 2], transport: [0, 1, 1] } });
    const hidden = new Set(decidePartnerWithholding(f).filter((x) => x.org_id === 'A').map((x) => x.domain!));
    /** Each other organisation's totals over every non-negative integer table matching what A sees. */
    const totals = (withheld: Set<string>) => {
      const cells = Object.entries(dir).flatMap(([d, os]) => os.filter((o) => o !== 'A').map((o) => ({ d, o })));
      const sum = (ds: string[]) => ds.reduce((a, d) => a + Object.values(truth[d]!).reduce((x, y) => x + y, 0), 0);
      const seen: string[][] = [...Object.keys(dir).filter((d) => !withheld.has(d)).map((d) => [d]), ...(withheld.size ? [[...withheld]] : [])];
      const out = new Map<string, Set<number>>();
      const v = new Array<number>(cells.length).fill(0);
      const visit = (i: number) => {
        if (i === cells.length) {
          if (!seen.every((g) => cells.reduce((a, c, k) => a + (g.includes(c.d) ? v[k]! : 0), 0) === sum(g))) return;
          for (const o of ['B', 'C', 'D', 'E']) {
            if (!out.has(o)) out.set(o, new Set());
            out.get(o)!.add(cells.reduce((a, c, k) => a + (c.o === o ? v[k]! : 0), 0));
          }
          return;
        }
        for (let x = 0; x <= 3; x++) {
          v[i] = x;
          visit(i + 1);
        }
      };
      visit(0);
      return out;
    };
    const open = totals(new Set());
    expect([...open.get('D')!]).toEqual([2]); // the attack, without the rule: D's figure exactly
    expect([...open.get('E')!]).toEqual([1]);
    expect([...hidden].sort()).toEqual(['safety', 'transport']);
    const guarded = totals(hidden);
    for (const o of ['B', 'C', 'D', 'E']) {
      expect(guarded.get(o)!.size, `${o}'s figure`).toBeGreaterThan(1);
      expect(guarded.get(o)!.has(0), `${o}'s range reaches 0`).toBe(true);
    }
  });
});

describe('the partner check before a publish (partnerAudit.ts): the attack on what each partner is shown', () => {
  // food: A, B; safety: D alone. closed_loop_rate, whole span: A (5 of 20), B (6 of 25), D (4 of 12).
  async function store(partnerWithheld: Array<[string, string, string | null]>) {
    const { openDatabase, exec } = await import('../../../models/duckdb.ts');
    const db = await openDatabase(':memory:', { memoryLimit: '256MB' });
    await exec(db.conn, `CREATE TABLE stg_services AS SELECT * FROM (VALUES ('A', 'food'), ('B', 'food'), ('D', 'safety')) v(org_id, domain)`);
    const rows: Array<[string, string, number, number]> = [['all', 'all', 15, 57], ['domain', 'food', 11, 45], ['domain', 'safety', 4, 12], ['domain', 'legal', 0, 0],
      ['target_org_id', 'A', 5, 20], ['target_org_id', 'B', 6, 25], ['target_org_id', 'D', 4, 12]];
    await exec(db.conn, `CREATE TABLE truth AS SELECT 'closed_loop_rate' AS metric_id, 'all' AS period_grain, DATE '2025-01-01' AS period_start, * FROM (VALUES
      ${rows.map(([d, g, n, den]) => `('${d}', '${g}', ${n}, ${den})`).join(', ')}) v(dimension, group_value, numerator, denominator)`);
    // the publication, small cells withheld: safety (4 closed) and the organisations' rows A, B, D
    await exec(db.conn, `CREATE TABLE metric_results AS SELECT *, (numerator > 0 AND numerator < 11) OR (denominator - numerator > 0 AND denominator - numerator < 11) AS suppressed FROM truth`);
    await exec(db.conn, 'CREATE TABLE partner_withheld (org_id VARCHAR, metric_id VARCHAR, domain VARCHAR, reason VARCHAR)');
    for (const [o, m, d] of partnerWithheld) await exec(db.conn, `INSERT INTO partner_withheld VALUES ('${o}', '${m}', ${d === null ? 'NULL' : `'${d}'`}, 'test')`);
    return db;
  }

  it('finds the subtraction when nothing is withheld from partners, and passes the rule\'s withholding', async () => {
    const { auditPartnerViews } = await import('../../../models/disclosure/partnerAudit.ts');
    // As published: food (11, 45) shown, safety withheld (4 closed), legal (0, 0) shown; all (15, 57).
    // Partner A: food minus its own (5, 20) = B's (6, 25): B's figure, exactly. Safety is one
    // more group (all minus shown), D's alone: D's figure too.
    const open = await store([]);
    try {
      const found = (await auditPartnerViews(open.conn, 'truth')).filter((v) => v.partner === 'A').map((v) => `${v.org_id} ${v.quantity}`).sort();
      expect(found).toEqual(['B complement', 'B denominator', 'B numerator', 'D complement', 'D denominator', 'D numerator']);
    } finally {
      open.close();
    }
    // The rule: for A, food is B's alone and safety D's alone: both withheld, one group (B or D).
    const f = figures({ food: ['A', 'B'], safety: ['D'] }, { closed_loop_rate: { A: q(5, 20), B: q(6, 25), D: q(4, 12) } },
      { closed_loop_rate: { food: q(11, 45), safety: q(4, 12), legal: q(0, 0) } });
    const w = decidePartnerWithholding(f);
    expect(of(w, 'A')).toEqual(['closed_loop_rate:food', 'closed_loop_rate:safety']);
    const guarded = await store(w.map((x) => [x.org_id, x.metric_id, x.domain]));
    try {
      expect(await auditPartnerViews(guarded.conn, 'truth')).toEqual([]);
    } finally {
      guarded.close();
    }
  });
});
