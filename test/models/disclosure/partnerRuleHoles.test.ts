// Hole in the partners' rule (partners.ts, issue 14 route 7): it decides withholding for the
// organisations it knows (the directory's, and those with referrals in the run). A partner
// credential can be bound to any organisation id (`closeloop users add --role partner --org
// ORG-77` checks the id's form only): an organisation new to the directory, one that left it,
// or one with no referral yet. Its view then read partner_withheld for an id with no rows and
// withheld nothing, so a domain one organisation serves alone was that organisation's figure.
import { describe, expect, it } from 'vitest';
import { decidePartnerWithholding, type PartnerFigures } from '../../../models/disclosure/partners.ts';

/** partner_withheld's rows for any organisation the rule does not know */
const ANY_OTHER_ORG = '*';

const q = (n: number, d: number) => [n, d, d - n];

describe('hole: a partner the rule does not know (not in the directory, no referrals) was withheld nothing', () => {
  // food: A, B, C; safety: D alone. closed_loop_rate, whole span.
  const f: PartnerFigures = {
    directory: new Map([['food', new Set(['A', 'B', 'C'])], ['safety', new Set(['D'])]]),
    orgs: new Map([['closed_loop_rate', new Map([['A', q(5, 30)], ['B', q(6, 30)], ['C', q(7, 30)], ['D', q(12, 26)]])]]),
    domains: new Map([['closed_loop_rate', new Map([['food', q(18, 90)], ['safety', q(12, 26)]])]]),
  };

  it('worked by hand: partner Z (no units) reads safety\'s row, which is D\'s figure (12 of 26)', () => {
    // Z's own units are 0 everywhere; safety is served by D alone: area safety - 0 = D's row
    const safety = f.domains.get('closed_loop_rate')!.get('safety')!;
    expect(safety).toEqual(f.orgs.get('closed_loop_rate')!.get('D'));
  });

  it('the rule withholds, for any organisation it does not know, what it withholds from one with no units', () => {
    const w = decidePartnerWithholding(f);
    const any = w.filter((x) => x.org_id === ANY_OTHER_ORG).map((x) => `${x.metric_id}:${x.domain ?? '*'}`).sort();
    // safety is D's alone (withheld); alone it would be `all` minus food, so food (A, B, C) joins it
    expect(any).toEqual(['closed_loop_rate:food', 'closed_loop_rate:safety']);
  });
});
