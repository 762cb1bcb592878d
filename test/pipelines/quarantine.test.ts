// `closeloop quarantine` (issue 13): every quarantined row with its file, physical line,
// first rule, all rules, column, message, status and raw record exactly as it came,
// through the real binary. And its privacy: quarantined records are person-level data,
// shown on this machine only. The attacker is any API user (every role, admins too)
// holding a valid token; the attack is asking the server for quarantined records.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../server/app.ts';
import { addTestUser, getAs, type TestUser } from '../helpers/auth.ts';
import { closeloop } from '../helpers/closeloopBin.ts';
import { tempStore, type TempStore } from '../helpers/store.ts';

const MARK = 'QZMARK';
let store: TempStore;
const runs: string[] = [];

beforeAll(async () => {
  store = tempStore();
  store.add('people.csv', 'person_id,birth_date,enrolled_from,sex\nP1,1980-01-01,2024-01-01,female\nP2,1980-13-01,2024-01-01,male\n');
  store.add('referrals.csv', [
    'referral_id,person_id,need_domain,referred_on,target_org_id,status',
    `R1,P1,food,2024-03-01,${MARK}-ORG,done`, // unknown_enum: stays open
    'R2,P7,food,2024-03-01,ORG-1,pending', // orphan: resolved once P7 arrives
    ',P1,,2024-03-01,ORG-1,', // three missing values, "" in the raw record
    `R4,P1,food,2024-03-01,ORG-1,pending,${MARK} extra`, // malformed
  ].join('\n'));
  runs.push((await store.run()).run_id!);
  store.add('people_2.csv', 'person_id,birth_date,enrolled_from\nP7,1990-01-01,2024-01-01\n');
  // A corrected roster supersedes the first one's record.
  store.add('people.csv', 'person_id,birth_date,enrolled_from,sex\nP1,1980-01-01,2024-01-01,female\nP2,1980-12-01,2024-01-01,male\n');
  runs.push((await store.run()).run_id!);
}, 60_000);
afterAll(() => store?.cleanup());

describe('closeloop quarantine', () => {
  it('lists the open rows by default: file, line, rules, column, status, message and the raw record', async () => {
    const r = await closeloop(['quarantine', '--db', store.root]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe([
      `referrals.csv line 2  unknown_enum  status  open`,
      `  status 'done' is not one of: pending, accepted, rejected, in_progress, completed, cancelled`,
      `  raw: {"referral_id":"R1","person_id":"P1","need_domain":"food","referred_on":"2024-03-01","target_org_id":"${MARK}-ORG","status":"done"}`,
      `referrals.csv line 4  missing_required [missing_required, missing_required, missing_required]  referral_id  open`,
      `  referral_id is required but empty`,
      `  raw: {"referral_id":"","person_id":"P1","need_domain":"","referred_on":"2024-03-01","target_org_id":"ORG-1","status":""}`,
      `referrals.csv line 5  malformed_row  open`,
      `  record has 7 fields, the header 6`,
      `  raw: {"record":"R4,P1,food,2024-03-01,ORG-1,pending,${MARK} extra"}`,
      '',
    ].join('\n'));
    expect(r.stderr).toBe(`3 quarantined rows (status open) in the warehouse of run ${runs[1]}.\n`);
  }, 30_000);

  it('--json --status all: every status, with the run that quarantined and the run that resolved or superseded it', async () => {
    const r = await closeloop(['quarantine', '--db', store.root, '--json', '--status', 'all']);
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.stdout) as Array<Record<string, unknown>>;
    expect(rows.map((x) => [x.file, x.line, x.rule, x.status, x.run_id, x.resolved_run_id])).toEqual([
      ['people.csv', 3, 'bad_date', 'superseded', runs[0], runs[1]],
      ['referrals.csv', 2, 'unknown_enum', 'open', runs[0], null],
      ['referrals.csv', 3, 'orphan', 'resolved', runs[0], runs[1]],
      ['referrals.csv', 4, 'missing_required', 'open', runs[0], null],
      ['referrals.csv', 5, 'malformed_row', 'open', runs[0], null],
    ]);
    expect(rows[0]).toEqual({
      file: 'people.csv', line: 3, entity: 'people', rule: 'bad_date', rules: ['bad_date'], column: 'birth_date',
      message: "birth_date '1980-13-01' is not a date (expected YYYY-MM-DD)", status: 'superseded', run_id: runs[0], resolved_run_id: runs[1],
      raw_record: { person_id: 'P2', birth_date: '1980-13-01', enrolled_from: '2024-01-01', sex: 'male' },
    });
  }, 30_000);

  it('--csv with --file and --rule filters', async () => {
    const r = await closeloop(['quarantine', '--db', store.root, '--csv', '--file', 'referrals.csv', '--rule', 'malformed_row']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe([
      'file,line,entity,rule,rules,column,message,status,run_id,resolved_run_id,raw_record',
      `referrals.csv,5,referrals,malformed_row,malformed_row,,"record has 7 fields, the header 6",open,${runs[0]},,"{""record"":""R4,P1,food,2024-03-01,ORG-1,pending,${MARK} extra""}"`,
      '',
    ].join('\r\n'));
  }, 30_000);

  it('refuses an unknown status or rule with the usage, and prints its options with --help', async () => {
    const bad = await closeloop(['quarantine', '--db', store.root, '--status', 'closed']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe('closeloop quarantine: --status must be one of open, resolved, superseded, all, got "closed"\n' +
      'usage: closeloop quarantine [--file NAME] [--rule RULE] [--status open|resolved|superseded|all] [--json|--csv] [--db DIR]\n');
    const help = await closeloop(['quarantine', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^closeloop quarantine \[--file NAME\]/);
  }, 30_000);

  it('the attack: no API request of any role, admins included, returns a quarantined record', async () => {
    const app: App = createApp({ root: store.root, log: () => undefined });
    try {
      const users: TestUser[] = [];
      for (const role of ['evaluator', 'staff', 'admin'] as const) users.push(await addTestUser(store.root, role));
      const paths = ['/api/quarantine', '/api/admin/quarantine', '/api/quality', '/api/runs', '/api/charts/quarantine.csv', '/api/charts/quarantine.json', '/data-quality', '/admin'];
      for (const user of users) {
        for (const path of paths) {
          const res = await getAs(app, user, path);
          expect(res.status, `${user.role} ${path}`).not.toBe(500);
          expect(`${res.text ?? ''}${JSON.stringify(res.body ?? '')}`, `${user.role} ${path}`).not.toContain(MARK);
        }
        expect((await getAs(app, user, '/api/quarantine')).status).toBe(404);
      }
      // The records are there to find: the search above is not vacuous.
      expect(await store.warehouse(`SELECT count(*) AS n FROM quarantine WHERE raw_record::VARCHAR LIKE '%${MARK}%'`)).toEqual([{ n: 2 }]);
    } finally {
      app.close();
    }
  });
});
