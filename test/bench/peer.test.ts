// The pandas peer (pipelines/bench/peer.ts, peer/peer_metrics.py): an independent oracle for
// four core metrics. On a tiny hand-worked inbox both must equal the figures worked out
// below by hand, so the two cannot be wrong in the same way unnoticed (on a generated demo,
// cell for cell: peer.full.test.ts). Needs Debian's python3-pandas for
// /usr/bin/python3; without it the tests report themselves skipped, with that reason.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareCells, hasPandas, recomputedCells, runPeer, runPeerScript, type Cell } from '../../pipelines/bench/peer.ts';
import { tempStore, type TempStore } from '../helpers/store.ts';

const pandas = hasPandas();
const unlessSkipped = (name: string) => (pandas ? name : `${name} (skipped: python3-pandas is not installed (apt-get install -y python3-pandas))`);

// ---------------------------------------------------------------- a hand-worked inbox
// As of 2026-06-30 (so: acceptance measurable when referred on or before 06-16, closed loop
// on or before 05-01, a need when screened on or before 05-31, a PHQ-9 episode when indexed
// on or before 2025-11-02). People: P1 white, P2 black, P3 unknown race (empty); PX is bad,
// so its rows are orphans. Payer: the coverage on the referral date (COVERAGE below):
//   P1 medicaid to 2026-01-31, commercial from 2026-02-01 (a change mid-quarter)
//   P2 unknown (empty roster payer); its medicare span contradicts that: left out
//   P3 commercial to 2025-04-30, again from 2025-06-15 (a 45-day gap) to 2026-01-31, and from
//      2026-03-01: not covered in February 2026 (payer unknown then)
const csv = (header: string, lines: string[]) => [header, ...lines].join('\n') + '\n';

const PEOPLE = csv('person_id,birth_date,sex,race_ethnicity,preferred_language,zip,county_fips,rurality,payer,program_id,enrolled_from,enrolled_through', [
  'P1,1980-01-01,female,White,en,27701,37063,urban, Medicaid ,ACO-01,2020-01-01,', // case and spaces normalised
  'P2,2013-07-01,male,black,es,27701,37063,urban,,ACO-01,2020-01-01,', // 12th birthday 2025-07-01
  'P3,1990-05-05,female,,en,27701,37063,urban,commercial,,2020-01-01,',
  'P3,1990-05-05,female,asian,en,27701,37063,urban,medicare,,2020-01-01,', // duplicate key: the first copy counts
  'PX,1990-02-30,female,white,en,27701,37063,urban,medicaid,,2020-01-01,', // bad date: not loaded
]);

const COVERAGE = csv('person_id,coverage_from,coverage_through,payer,program_id,plan_id', [
  'P1,2020-01-01,2026-01-31,medicaid,ACO-01,', // same person and start as P1's roster span: replaces it, closing it
  'P1,2026-02-01,,commercial,ACO-01,',
  'P2,2026-01-01,,medicare,ACO-01,', // two payers on one day with P2's roster span: coverage_conflict
  'P3,2020-01-01,2025-04-30,commercial,,', // replaces P3's roster span
  'P3,2025-06-15,2026-01-31,commercial,,', // after a gap of 45 days (1 May - 14 June)
  'P3,2026-03-01,,commercial,,', // after a gap in February 2026
  'PX,2020-01-01,,medicaid,,', // orphan
]);

// P2 is in hospice during its PHQ-9 episode E4: E4 leaves the DRR-E denominators
const ENCOUNTERS = csv('encounter_id,person_id,encounter_type,start_date,end_date,paid_amount', [
  'V1,P2,hospice,2025-08-01,2025-08-10,',
]);

const REFERRALS = csv('referral_id,person_id,need_domain,referred_on,source_org_id,target_org_id,program_id,status,accepted_on,service_started_on,closed_on,outcome', [
  'R1,P1,food,2026-01-10,CLN-1,ORG-1,,completed,2026-01-12,2026-01-15,2026-02-20,need_met', // Q1 medicaid accepted; closed day 41: yes
  'R2,P1,housing_instability,2026-03-01,CLN-1,ORG-2,,pending,,,,', // Q1 commercial not accepted; open: no
  'R2,P1,housing_instability,2026-03-01,CLN-1,ORG-2,,accepted,2026-03-02,,,', // duplicate: ignored
  'R3,P1,food,2026-04-01,CLN-1,ORG-1,,in_progress,,,2026-06-15,need_not_met', // Q2: a status without a date is not an acceptance within 14 days; closed day 75: no
  'R4,P3,food,2026-06-20,CLN-1,ORG-1,,accepted,2026-06-21,,,', // too recent for both
  'R5,P3,transportation,2026-05-10,CLN-1,ORG-3,,cancelled,,,2026-05-12,client_declined', // Q2 not accepted; closed loop: too recent
  'R6,P3,food,2026-02-01,CLN-1,ORG-1,,cancelled,2026-02-03,,2026-02-10,other', // Q1 uncovered (unknown) accepted (cancelled, but accepted_on); closed day 9: yes
  'R7,P2,food,2026-01-05,CLN-1,ORG-1,,pending,2026-07-15,,,', // Q1 accepted_on after the as-of date: not accepted; open: no
  'R8,P1,food,2026-07-02,CLN-1,ORG-1,,pending,,,,', // after the as-of date: not counted
  'R9,P1,food,2026-01-20,CLN-1,ORG-1,,completed,2026-01-21,,,', // completed without closed_on: bad
  'R10,PX,food,2026-01-20,CLN-1,ORG-1,,accepted,2026-01-21,,,', // orphan
  'R11,P1,food,2026/01/20,CLN-1,ORG-1,,accepted,2026-01-21,,,', // bad date
  'R12,P2,utilities,2026-02-01,CLN-1,ORG-4,,completed,2026-02-02,,2026-04-02,need_met', // Q1 accepted; closed day 60: yes
  'R13,P2,utilities,2026-02-01,CLN-1,ORG-4,,completed,2026-02-02,,2026-04-03,need_met', // Q1 accepted; closed day 61: no
  'R14,P3,food,2026-06-16,CLN-1,ORG-1,,pending,,,,', // Q2 just measurable for acceptance: not accepted; closed loop: too recent
]);

const SCREENINGS = csv('screening_id,person_id,screened_on,instrument,domain,result', [
  'S0,P2,2025-12-20,ahc_hrsn,food,negative', // the screenings span starts here (grain all: 2025-12-20)
  'S1,P1,2026-01-08,ahc_hrsn,food,positive', // R1 on day 2: referred
  'S1,P1,2026-01-08,ahc_hrsn,housing_instability,positive', // R2 on day 52: not referred
  'S1,P1,2026-01-08,ahc_hrsn,transportation,negative',
  'S1,P1,2026-01-08,ahc_hrsn,food,negative', // duplicate key (S1, food): ignored
  'S2,P1,2026-03-15,prapare,food,positive', // R1 is before it; R3 on day 17: referred
  'S3,P3,2026-05-01,prapare,transportation,positive', // R5 on day 9: referred
  'S4,P3,2026-06-05,prapare,food,positive', // too recent
  'S5,P2,2026-01-02,,food,declined',
  'S5,P2,2026-01-02,,utilities,positive', // R12 on day 30: referred
  'S6,P3,2026-01-01,ahc_hrsn,food,POSITIVE', // R6 on day 31: not referred
  'S7,P1,2026-05-31,ahc_hrsn,utilities,positive', // just measurable; no referral: not referred
  'SX1,P1,2026-02-30,ahc_hrsn,food,positive', // bad date
  'SX2,PX,2026-01-15,ahc_hrsn,food,positive', // orphan
  'SX3,P1,2026-01-15,ahc_hrsn,food_insecurity,positive', // unknown domain
]);

const PHQ9 = csv('assessment_id,person_id,assessed_on,total_score,item_1,item_2,item_3,item_4,item_5,item_6,item_7,item_8,item_9', [
  'A01,P1,2024-06-01,20,,,,,,,,,', // index E1 (2024 Q2); window 2024-09-29..2025-01-27
  'A02,P1,2024-10-15,12,,,,,,,,,',
  'A03,P1,2024-12-01,9,,,,,,,,,',
  'A04,P1,2024-12-01,11,,,,,,,,,', // same day as A03, larger id: E1's last follow-up, 11 > 10: no response
  'A05,P1,2025-05-20,15,,,,,,,,,', // day 353 after E1: not an index
  'A06,P1,2025-06-10,18,,,,,,,,,', // day 374 after E1 (21 after A05): index E2 (2025 Q2)
  'A07,P1,2025-11-01,6,,,,,,,,,', // E2 day 144: 6 <= 9: response
  'A08,P1,2026-02-06,20,,,,,,,,,', // E2 day 241: outside the window, not an index
  'A11,P3,2025-03-01,10,,,,,,,,,', // index E3 (2025 Q1): the day's highest score is A12's 14, not the smaller id's 10
  'A12,P3,2025-03-01,14,,,,,,,,,',
  'A13,P3,2025-08-01,6,,,,,,,,,', // E3 day 153: 6 <= 7: response (6 > 5 had A11 been the index); P3's 45-day gap is allowed
  'AX1,P3,2025-09-01,28,,,,,,,,,', // total out of range: would have been E3's last follow-up
  'A20,P2,2025-06-30,15,,,,,,,,,', // aged 11: not a candidate
  'A21,P2,2025-07-01,13,,,,,,,,,', // aged 12 today: index E4 (2025 Q3), but P2 was in hospice in its window: not counted
  'AX2,P1,2025-01-01,10,2,2,1,2,1,1,2,1,0', // items sum to 12: bad (would have been E1's last follow-up, 10 <= 10)
  'AX3,PX,2025-01-01,15,,,,,,,,,', // orphan
]);

type Row = [metric: string, grain: string, period: string, dimension: string, group: string, numerator: number, denominator: number];
const RP = 'race_ethnicity*payer';
const EXPECTED: Row[] = [
  // acceptance within 14 days: measurable R1 R2 R3 R5 R6 R7 R12 R13 R14; accepted R1 R6 R12 R13 (accepted_on
  // on day 1 or 2). Span from R7 (2026-01-05).
  // Payer on the referral date: R1 medicaid; R2 R3 commercial (P1 changed on 02-01); R6 unknown (P3 uncovered
  // in February); R5 R14 commercial; R7 R12 R13 unknown.
  ['referral_acceptance_rate', 'all', '2026-01-05', 'all', 'all', 4, 9],
  ['referral_acceptance_rate', 'all', '2026-01-05', RP, 'white*medicaid', 1, 1], // R1
  ['referral_acceptance_rate', 'all', '2026-01-05', RP, 'white*commercial', 0, 2], // none / R2 R3
  ['referral_acceptance_rate', 'all', '2026-01-05', RP, 'black*unknown', 2, 3], // R12 R13 / R7 R12 R13
  ['referral_acceptance_rate', 'all', '2026-01-05', RP, 'unknown*commercial', 0, 2], // R5 R14
  ['referral_acceptance_rate', 'all', '2026-01-05', RP, 'unknown*unknown', 1, 1], // R6
  ['referral_acceptance_rate', 'quarter', '2026-01-01', 'all', 'all', 4, 6],
  ['referral_acceptance_rate', 'quarter', '2026-01-01', RP, 'white*medicaid', 1, 1],
  ['referral_acceptance_rate', 'quarter', '2026-01-01', RP, 'white*commercial', 0, 1], // P1 in two payer groups of Q1
  ['referral_acceptance_rate', 'quarter', '2026-01-01', RP, 'black*unknown', 2, 3],
  ['referral_acceptance_rate', 'quarter', '2026-01-01', RP, 'unknown*unknown', 1, 1],
  ['referral_acceptance_rate', 'quarter', '2026-04-01', 'all', 'all', 0, 3],
  ['referral_acceptance_rate', 'quarter', '2026-04-01', RP, 'white*commercial', 0, 1],
  ['referral_acceptance_rate', 'quarter', '2026-04-01', RP, 'unknown*commercial', 0, 2],
  // closed loop: measurable R1 R2 R3 R6 R7 R12 R13; closed by day 60 R1 R6 R12.
  ['closed_loop_rate', 'all', '2026-01-05', 'all', 'all', 3, 7],
  ['closed_loop_rate', 'all', '2026-01-05', RP, 'white*medicaid', 1, 1],
  ['closed_loop_rate', 'all', '2026-01-05', RP, 'white*commercial', 0, 2],
  ['closed_loop_rate', 'all', '2026-01-05', RP, 'black*unknown', 1, 3],
  ['closed_loop_rate', 'all', '2026-01-05', RP, 'unknown*unknown', 1, 1],
  ['closed_loop_rate', 'quarter', '2026-01-01', 'all', 'all', 3, 6],
  ['closed_loop_rate', 'quarter', '2026-01-01', RP, 'white*medicaid', 1, 1],
  ['closed_loop_rate', 'quarter', '2026-01-01', RP, 'white*commercial', 0, 1],
  ['closed_loop_rate', 'quarter', '2026-01-01', RP, 'black*unknown', 1, 3],
  ['closed_loop_rate', 'quarter', '2026-01-01', RP, 'unknown*unknown', 1, 1],
  ['closed_loop_rate', 'quarter', '2026-04-01', 'all', 'all', 0, 1],
  ['closed_loop_rate', 'quarter', '2026-04-01', RP, 'white*commercial', 0, 1],
  // needs: measurable S1 food, S1 housing, S2, S3, S5 utilities, S6, S7; referred S1 food, S2, S3, S5.
  ['need_referral_rate', 'all', '2025-12-20', 'all', 'all', 4, 7],
  ['need_referral_rate', 'all', '2025-12-20', 'domain', 'food', 2, 3],
  ['need_referral_rate', 'all', '2025-12-20', 'domain', 'housing_instability', 0, 1],
  ['need_referral_rate', 'all', '2025-12-20', 'domain', 'transportation', 1, 1],
  ['need_referral_rate', 'all', '2025-12-20', 'domain', 'utilities', 1, 2],
  ['need_referral_rate', 'quarter', '2026-01-01', 'all', 'all', 3, 5],
  ['need_referral_rate', 'quarter', '2026-01-01', 'domain', 'food', 2, 3],
  ['need_referral_rate', 'quarter', '2026-01-01', 'domain', 'housing_instability', 0, 1],
  ['need_referral_rate', 'quarter', '2026-01-01', 'domain', 'utilities', 1, 1],
  ['need_referral_rate', 'quarter', '2026-04-01', 'all', 'all', 1, 2],
  ['need_referral_rate', 'quarter', '2026-04-01', 'domain', 'transportation', 1, 1],
  ['need_referral_rate', 'quarter', '2026-04-01', 'domain', 'utilities', 0, 1],
  // PHQ-9: episodes E1 E2 E3 counted (E4: hospice in its window), responses E2 E3. Span from A01 (2024-06-01).
  ['phq9_response_rate', 'all', '2024-06-01', 'all', 'all', 2, 3],
  ['phq9_response_rate', 'quarter', '2024-04-01', 'all', 'all', 0, 1],
  ['phq9_response_rate', 'quarter', '2025-01-01', 'all', 'all', 1, 1],
  ['phq9_response_rate', 'quarter', '2025-04-01', 'all', 'all', 1, 1],
];
const expectedCells: Cell[] = EXPECTED.map(([metric_id, grain, period, dimension, group, numerator, denominator]) => ({
  metric_id, grain, period, dimension, group, numerator, denominator,
}));

describe('the pandas peer on a hand-worked inbox', () => {
  let store: TempStore;
  beforeAll(() => {
    store = tempStore('closeloop-peer-hand-');
    store.add('people.csv', PEOPLE);
    store.add('coverage.csv', COVERAGE);
    store.add('encounters.csv', ENCOUNTERS);
    store.add('referrals.csv', REFERRALS);
    store.add('screenings.csv', SCREENINGS);
    store.add('phq9.csv', PHQ9);
  });
  afterAll(() => store.cleanup());

  it.skipIf(!pandas)(unlessSkipped('gives the figures worked out by hand'), () => {
    const dir = mkdtempSync(join(tmpdir(), 'closeloop-peer-out-'));
    try {
      const out = join(dir, 'peer.json');
      const r = runPeerScript({ inbox: store.inbox, out, asOf: '2026-06-30', runDate: '2026-11-01' });
      const c = compareCells(r.output.metrics, expectedCells, ['peer', 'by hand']);
      expect(c.mismatches).toEqual([]);
      expect(c.compared).toBe(EXPECTED.length);
      for (const m of r.output.metrics) expect(m.rate).toBeCloseTo((m.numerator ?? 0) / (m.denominator ?? 1), 12);
      expect(r.output.rows).toEqual({ people: 3, 'coverage spans': 6, referrals: 11, screenings: 11, phq9: 13, encounters: 1 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('closeloop gives the same figures (unsuppressed)', async () => {
    const s = await store.run({ asOf: '2026-06-30' });
    expect(s.status).toBe('published');
    const ours = await recomputedCells(store.root);
    const c = compareCells(ours.cells, expectedCells, ['closeloop', 'by hand']);
    expect(c.mismatches).toEqual([]);
    expect(c.compared).toBe(EXPECTED.length);
  }, 120_000);
});
