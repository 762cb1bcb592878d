// Issue 14, "Done when": an independent attacker, run from outside, finds no protected count
// in 1..10, exact or bounded. A small demo drop is published with the real binary, fetched
// over HTTP as an evaluator and as a partner of every organization (fetch.ts), published
// again after one referral is added, fetched again, and attacked (attack.py, which shares
// no code with closeloop). Every route must come back empty.
//
// Run by `npm run check:attacker` (vitest.attacker.config.ts), not by CI (about 13 minutes
// under load). On 2026-12-07 it found nothing on the 3,000-person drop (README, Development).
import { readFileSync, readdirSync, writeFileSync, mkdirSync, mkdtempSync, rmSync, existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { fetchStore } from './fetch.ts';
import { ATTACK, PYTHON, missingPython, type Finding } from './fixtures.ts';

const missing = missingPython();
/** The drop's size (CI runs a smaller one: CLOSELOOP_ATTACKER_PEOPLE). */
const PEOPLE = process.env.CLOSELOOP_ATTACKER_PEOPLE ?? '3000';
/** CLOSELOOP_ATTACKER_KEEP=DIR: work in DIR and keep it (the drop, both publications as fetched, the findings), to rerun attack.py by hand. */
const keep = process.env.CLOSELOOP_ATTACKER_KEEP;
const dir = keep ? (mkdirSync(keep, { recursive: true }), keep) : mkdtempSync(join(tmpdir(), 'closeloop-attacker-'));
const drop = join(dir, 'drop');
const store = join(dir, 'store');
let findings: Finding[] = [];
/** Downloads refused as busy (HTTP 429) that fetch.ts's retries did not get. */
let busy = 0;
let summary: { by_route: Record<string, number>; roles: Record<string, { notes: string[]; solver: Record<string, number> }> } | null = null;

afterAll(() => {
  if (!keep) rmSync(dir, { recursive: true, force: true });
});

/** Append one referral under a new id: a copy of an existing closed one. */
function addOneReferral(file: string) {
  const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
  const header = lines[0]!.split(',');
  const id = header.indexOf('referral_id');
  const closed = header.indexOf('closed_on');
  const row = lines.slice(1).reverse().find((l) => l.split(',')[closed]) ?? lines[1]!;
  const cells = row.split(',');
  cells[id] = 'R9999999-ATTACKER';
  writeFileSync(file, [...lines, cells.join(',')].join('\n') + '\n');
}

describe.skipIf(missing !== null)(`issue 14: an independent attacker on a published drop finds no withheld count in 1..10${missing ? ` (skipped: ${missing})` : ''}`, () => {
  beforeAll(async () => {
    const demo = await runCli(['demo', '--people', PEOPLE, '--seed', '1414', '--out', drop], {}, 300_000);
    expect(demo.code, demo.stderr).toBe(0);
    const first = await runCli(['run', '--inbox', drop, '--db', store], {}, 600_000);
    expect(first.code, first.stdout + first.stderr).toBe(0);
    await fetchStore(store, join(dir, 'before'), { partners: 'all', tag: 'before' });
    addOneReferral(join(drop, 'referrals.csv'));
    const second = await runCli(['run', '--inbox', drop, '--db', store], {}, 600_000);
    expect(second.code, second.stdout + second.stderr).toBe(0);
    await fetchStore(store, join(dir, 'after'), { partners: 'all', tag: 'after' });
    const out = join(dir, 'findings.jsonl');
    const sum = join(dir, 'summary.json');
    const r = spawnSync(PYTHON, [ATTACK, join(dir, 'after'), '--services', join(drop, 'services.csv'), '--previous', join(dir, 'before'),
      '--partner-records', drop, '--out', out, '--summary', sum, '--lp-seconds', '1200', '--quiet',
      // a publication rule the attacker knows (README, Small cells): every cut lists its whole frame
      '--fixed-frames'], { encoding: 'utf8', timeout: 1_500_000 });
    expect(r.status === 0 || r.status === 3, `attack.py failed (${r.status}):\n${r.stderr}`).toBe(true);
    findings = readFileSync(out, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Finding);
    for (const pub of ['before', 'after']) {
      for (const role of readdirSync(join(dir, pub))) {
        const index = join(dir, pub, role, 'index.jsonl');
        if (existsSync(index)) busy += readFileSync(index, 'utf8').split('\n').filter((l) => l.includes('"status":429')).length;
      }
    }
    summary = existsSync(sum) ? JSON.parse(readFileSync(sum, 'utf8')) : null;
  }, 2_400_000);

  const show = (route: string) => {
    const fs = findings.filter((f) => f.route === route);
    return `${fs.length} finding(s) by route ${route}, e.g.\n${fs.slice(0, 8).map((f) => JSON.stringify(f)).join('\n')}`;
  };

  it('the attacker got everything it asked for: no download refused as busy (429)', () => {
    expect(busy).toBe(0);
  });

  it('the attacker ran on every role and left nothing undecided', () => {
    expect(summary).not.toBeNull();
    expect(Object.keys(summary!.roles)).toContain('evaluator');
    expect(Object.keys(summary!.roles).filter((r) => r.startsWith('partner-')).length).toBeGreaterThan(0);
    for (const [role, s] of Object.entries(summary!.roles)) expect(s.solver.undecided, `${role}: counts the LP budget left undecided`).toBe(0);
  });

  const routes: Array<[string, string]> = [
    ['shown', 'a count in 1..10 shown in a published row'],
    ['other_view', 'a withheld count shown by another view (gap table, scorecard, funnel, chart CSV)'],
    ['existence_relations', 'route 1: row existence and non-negativity through groups/all, two-way cells/margins, months/quarters/years/span'],
    ['linear_algebra', 'route 1: exact derivation by elimination'],
    ['lp', 'route 1: LP/MILP bounds over every relation'],
    ['cross_metric', 'route 2: one count published by two metrics'],
    ['tied_dimensions', 'route 3: limited_english vs preferred_language, organizations vs domains through the directory'],
    ['reference_group', 'route 4: the reference group ordering'],
    ['kaplan_meier', 'route 5: Kaplan-Meier events and censored cases per step'],
    ['person_time', 'route 6: the people behind pre/post member-months'],
    ['partner_subtraction', 'route 7: a partner subtracting its own figures from the area\'s'],
    ['consecutive', 'route 8: the difference of two publications after one added referral'],
    ['qvalue', 'route 9: q-values taken over withheld comparisons'],
    ['quarantine', 'route 9: operational counts exported'],
  ];
  it.each(routes)('route %s finds nothing (%s)', (route) => {
    expect(findings.filter((f) => f.route === route).length, show(route)).toBe(0);
  });

  it('no route at all finds anything', () => {
    expect(findings.length, `findings by route: ${JSON.stringify(summary?.by_route)}`).toBe(0);
  });
});
