// Issue 13, section 2, "No input silently lost": one regression test per item, each
// named after what broke. Items 1, 2, 4 and 7 run the real `closeloop` command (exit
// codes, one-line errors, file permissions); the rest load through the pipeline in
// this process. Item 6 has its own property test against DuckDB (csvAgreement.test.ts).
// Full tier (about 45 s, a dozen runs of the binary): `npm test` went over five minutes.
import { execFileSync } from 'node:child_process';
import { appendFileSync, chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigSchema } from '../../../models/config.ts';
import { contractMarkdown } from '../../../models/contracts/markdown.ts';
import { ClaimSchema, type LoadedClaim } from '../../../pipelines/ingest/mapping.ts';
import { readPointer, storePaths } from '../../../pipelines/store.ts';
import { closeloop, IS_ROOT, NOBODY } from '../../helpers/closeloopBin.ts';
import { memoryWarehouse } from '../../helpers/loader.ts';
import { tempStore, type TempStore } from '../../helpers/store.ts';

const PEOPLE = 'person_id,birth_date,enrolled_from\nP1,1980-01-01,2024-01-01\nP2,1981-01-01,2024-01-01\n';
const REFERRALS = 'referral_id,person_id,need_domain,referred_on,target_org_id,status';

let store: TempStore | null = null;
afterEach(() => {
  store?.cleanup();
  store = null;
});

/** Hand the store to the unprivileged user the binary runs as (when the tests run as root). */
function giveToRunner(path: string) {
  if (IS_ROOT) execFileSync('chown', ['-R', `${NOBODY}:${NOBODY}`, path]);
}

const ledgerFiles = (s: TempStore) => s.warehouse<{ file: string }>('SELECT file FROM load_ledger ORDER BY file').then((r) => r.map((x) => x.file));
const hashCacheNames = (s: TempStore) => Object.keys(JSON.parse(readFileSync(join(s.root, 'state', 'hash-cache.json'), 'utf8')) as object).map((k) => k.split('\u0000')[0]);

describe('issue 13: no input silently lost', () => {
  it('item 1: a file that cannot be read is reported, kept out of the ledger and the hash cache, and loads once readable', async () => {
    store = tempStore();
    store.add('people.csv', PEOPLE);
    const locked = store.add('referrals.csv', `${REFERRALS}\nR1,P1,food,2024-03-01,ORG-1,pending\n`);
    giveToRunner(store.root);
    // Unreadable for the runner: root's own file with mode 0600 when the tests run as root.
    if (IS_ROOT) chownSync(locked, 0, 0);
    chmodSync(locked, IS_ROOT ? 0o600 : 0o000);
    const args = ['run', '--db', store.root];

    const first = await closeloop(args, { unprivileged: true, cwd: store.root });
    expect(first.code).toBe(2);
    expect(first.stdout).toMatch(/referrals\.csv: could not be read \(EACCES.*\); it is tried again on every run/);
    expect(await ledgerFiles(store)).toEqual(['people.csv']);
    expect(hashCacheNames(store)).toEqual(['people.csv']);

    const second = await closeloop(args, { unprivileged: true, cwd: store.root });
    expect(second.code).toBe(2);
    expect(second.stdout).toMatch(/not read: referrals\.csv: could not be read \(EACCES/);

    chmodSync(locked, 0o644);
    const third = await closeloop(args, { unprivileged: true, cwd: store.root });
    expect(third.code).toBe(0);
    expect(await store.warehouse('SELECT referral_id FROM stg_referrals')).toEqual([{ referral_id: 'R1' }]);
    expect(await ledgerFiles(store)).toEqual(['people.csv', 'referrals.csv']);
  }, 60_000);

  it('item 2: an inbox that does not exist or is not a folder exits 1 and publishes nothing', async () => {
    store = tempStore();
    const missing = join(store.root, 'no-such-inbox');
    const r = await closeloop(['run', '--db', store.root, '--inbox', missing], { cwd: store.root });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`Run failed: inbox ${missing} does not exist.`);
    const notDir = store.add('people.csv', PEOPLE);
    expect(await store.run({ inbox: notDir })).toMatchObject({ status: 'failed', exit_code: 1, message: `inbox ${notDir} is not a folder` });
    expect(await readPointer(storePaths(store.root))).toBeNull();
    expect(readFileSync(join(store.root, 'state', 'runs.jsonl'), 'utf8')).not.toContain('"published"');
  }, 30_000);

  it('item 3: an edit that keeps size and modification time (cp -p, rsync -t, unzip) loads', async () => {
    store = tempStore();
    store.add('people.csv', PEOPLE);
    const path = store.add('referrals.csv', `${REFERRALS}\nR1,P1,food,2024-03-01,ORG-1,pending\n`);
    expect((await store.run()).status).toBe('published');
    const before = statSync(path);
    writeFileSync(path, `${REFERRALS}\nR1,P1,food,2024-03-02,ORG-1,pending\n`); // same size
    utimesSync(path, before.atimeMs / 1000, before.mtimeMs / 1000); // the modification time put back, as cp -p does
    expect([statSync(path).size, Math.round(statSync(path).mtimeMs)]).toEqual([before.size, Math.round(before.mtimeMs)]);
    const s = await store.run();
    expect(s.status).toBe('published');
    expect(s.files.map((f) => [f.file, f.rows_loaded])).toEqual([['referrals.csv', 1]]);
    expect(await store.warehouse('SELECT referred_on FROM stg_referrals')).toEqual([{ referred_on: '2024-03-02' }]);
  });

  it('item 4: a dangling symlink rejects only itself (exit 2); folders, pipes and hidden data files are reported as skipped', async () => {
    store = tempStore();
    store.add('people.csv', PEOPLE);
    symlinkSync(join(store.root, 'gone.csv'), join(store.inbox, 'referrals.csv'));
    mkdirSync(join(store.inbox, 'screenings_2025'));
    execFileSync('mkfifo', [join(store.inbox, 'phq9_pipe.csv')]);
    store.add('.encounters_old.csv', 'encounter_id\n');
    store.add('.DS_Store', 'x');
    const report = join(store.root, 'report.json');
    const r = await closeloop(['run', '--db', store.root, '--report', report], { cwd: store.root });
    expect(r.code).toBe(2);
    const json = JSON.parse(readFileSync(report, 'utf8'));
    expect(json.status).toBe('published');
    expect(json.files.find((f: { file: string }) => f.file === 'people.csv')).toMatchObject({ rows_loaded: 2, rejected: false });
    expect(json.files.find((f: { file: string }) => f.file === 'referrals.csv')).toMatchObject({
      rejected: true, message: `referrals.csv: not read: it is a symbolic link to ${join(store.root, 'gone.csv')}, which does not exist; it is tried again on every run`,
    });
    expect(json.skipped).toEqual([
      { file: '.encounters_old.csv', reason: 'hidden file (its name starts with a dot): rename it to load it' },
      { file: 'phq9_pipe.csv', reason: 'a named pipe (FIFO), not a file' },
      { file: 'screenings_2025', reason: 'a folder (closeloop reads only the files directly in the inbox, and folders holding an HSDS datapackage.json or FHIR HealthcareService files)' },
    ]);
    expect(r.stdout).toContain('skipped: screenings_2025: a folder');
  }, 30_000);

  it('item 5: a malformed record longer than 10,000 characters is kept whole, with its line', async () => {
    const w = await memoryWarehouse();
    try {
      await w.load('people.csv', PEOPLE);
      const long = `P3,1980-01-01,2024-01-01,${'y'.repeat(20_000)},"and, more"`;
      await w.load('people_2.csv', `person_id,birth_date,enrolled_from\nP4,"1980-01-01",2024-01-01\n\n${long}\nP5,1980-01-01,2024-01-01\n`);
      const q = await w.query<{ line: number; rule: string; raw: string; message: string }>(`SELECT line, rule, raw_record->>'record' AS raw, message FROM quarantine WHERE file = 'people_2.csv'`);
      expect(q).toEqual([{ line: 4, rule: 'malformed_row', raw: long, message: 'record has 5 fields, the header 3' }]);
      expect(await w.query(`SELECT person_id, _line FROM stg_people WHERE _file = 'people_2.csv' ORDER BY 1`)).toEqual([{ person_id: 'P4', _line: 2 }, { person_id: 'P5', _line: 5 }]);
    } finally {
      w.close();
    }
  });

  it('item 6: rows after a bare quote, an unterminated quote and blank lines carry their physical lines, staged and quarantined', async () => {
    const w = await memoryWarehouse();
    try {
      await w.load('people.csv', PEOPLE);
      const text = [
        'program_id,org_id,org_name,program_name,domain,county_fips,monthly_capacity',
        'A,O1,Men\'s 12" Pantry,Pantry,food,37001,10', // line 2: a bare quote, loads
        '', '', // lines 3-4: blank
        'B,O1,Org,"Pantry ""East""",food,37001,many', // line 5: not_an_int
        'C,O1,"Two', 'lines",Pantry,food,37001,5', // lines 6-7: loads
        'D,O1,Org,Pantry,food,3700,1', // line 8: not_5_digits
        'E,O1,"never closed,Pantry,food,37001,1', // line 9: unterminated, runs to the end
        'F,O1,Org,Pantry,food,37001,1',
      ].join('\n');
      await w.load('services.csv', `${text}\n`);
      expect(await w.query('SELECT program_id, _line FROM stg_services ORDER BY 1')).toEqual([{ program_id: 'A', _line: 2 }, { program_id: 'C', _line: 6 }]);
      const q = await w.query<{ line: number; rule: string }>(`SELECT line, rule FROM quarantine WHERE file = 'services.csv' ORDER BY line`);
      expect(q).toEqual([{ line: 5, rule: 'not_an_int' }, { line: 8, rule: 'not_5_digits' }, { line: 9, rule: 'malformed_row' }]);
      expect(await w.query(`SELECT raw_record->>'record' AS raw, message FROM quarantine WHERE rule = 'malformed_row'`)).toEqual([
        { raw: 'E,O1,"never closed,Pantry,food,37001,1\nF,O1,Org,Pantry,food,37001,1\n', message: 'a quote opens a field on line 9 that is never closed: the record runs to the end of the file' },
      ]);
    } finally {
      w.close();
    }
  });

  it('item 7: a read-only store fails with one line, no stack trace, and a --report with status failed', async () => {
    store = tempStore();
    store.add('people.csv', PEOPLE);
    expect((await store.run()).status).toBe('published');
    store.add('referrals.csv', `${REFERRALS}\nR1,P1,food,2024-03-01,ORG-1,pending\n`);
    const out = mkdtempSync(join(tmpdir(), 'closeloop-report-'));
    try {
      giveToRunner(out);
      // The store stays root's (readable by all) when the tests run as root; otherwise write permission is taken away.
      if (IS_ROOT) execFileSync('chmod', ['-R', 'a+rX', store.root]);
      else execFileSync('chmod', ['-R', 'a-w', store.root]);
      const report = join(out, 'report.json');
      const r = await closeloop(['run', '--db', store.root, '--report', report], { unprivileged: true, cwd: out });
      expect(r.code).toBe(1);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      // one line of failure; the store made readable by all above also earns the permissions warning (issue 18)
      const lines = r.stdout.trim().split('\n').filter((l) => l && !l.startsWith('warning: the store'));
      expect(lines).toEqual([`Run failed: cannot write to the store ${store.root}: EACCES: permission denied, open '${join(store.root, 'state', 'writer.lock')}'. The last published generation is untouched.`]);
      expect(JSON.parse(readFileSync(report, 'utf8'))).toMatchObject({ status: 'failed', message: expect.stringMatching(/^cannot write to the store/) });
    } finally {
      if (!IS_ROOT) execFileSync('chmod', ['-R', 'u+w', store.root]);
      rmSync(out, { recursive: true, force: true });
    }
  }, 30_000);

  it('item 8: misleading messages name the real problem: ; delimiter, CR-only line ends, UTF-16, Windows-1252 with its line and byte', async () => {
    const w = await memoryWarehouse();
    try {
      const msg = async (name: string, content: string | Buffer) => (await w.load(name, content)).message;
      expect(await msg('people_semicolon.csv', 'person_id;birth_date;enrolled_from\nP1;1980-01-01;2024-01-01\n')).toBe(
        'people_semicolon.csv: rejected whole: missing required columns person_id, birth_date; the header "person_id;birth_date;enrolled_from" looks semicolon (;)-delimited: save the file comma-separated');
      expect(await msg('people_cr.csv', 'person_id,birth_date,enrolled_from\rP1,1980-01-01,2024-01-01\r')).toBe(
        'people_cr.csv: rejected whole: the file uses carriage returns (CR) alone as line ends (classic Mac OS): save it with LF or CRLF line ends');
      expect(await msg('people_u16.csv', Buffer.from(`\uFEFF${PEOPLE}`, 'utf16le'))).toBe(
        'people_u16.csv: rejected whole: the file is UTF-16 encoded (it starts with the byte-order mark 0xFF 0xFE): save it as UTF-8');
      expect(await msg('people_u16_nobom.csv', Buffer.from(PEOPLE, 'utf16le'))).toMatch(/rejected whole: the file looks UTF-16 \(UTF-16LE\) encoded/);
      // The bad byte sits past the reader's first 1 MiB chunk: its line and byte, not the chunk's offset.
      const rows = Array.from({ length: 40_000 }, (_, i) => `Q${i},1980-01-01,2024-01-01`);
      const head = Buffer.from(`person_id,birth_date,enrolled_from\n${rows.join('\n')}\nJOS`);
      const latin1 = Buffer.concat([head, Buffer.from([0xc9]), Buffer.from(',1980-01-01,2024-01-01\n')]);
      const line = rows.length + 2;
      expect(await msg('people_1252.csv', latin1)).toBe(
        `people_1252.csv: rejected whole: the file is not valid UTF-8: line ${line}, byte 4 of the line (byte ${(head.length + 1).toLocaleString('en-US')} of the file) is 0xC9, which is "É" in Windows-1252 (Latin-1): the file looks Windows-1252 encoded; save it as UTF-8`);
    } finally {
      w.close();
    }
  });

  it('item 9: placeholders (NULL, NA, N/A, n/a, -, null) are missing; language names and tags are normalised or quarantined, never limited English', async () => {
    const w = await memoryWarehouse();
    try {
      await w.load('people.csv', [
        'person_id,birth_date,enrolled_from,preferred_language,program_id',
        'NULL,1980-01-01,2024-01-01,en,', // 2: missing_required
        'P1,1980-01-01,2024-01-01,n/a,NA',
        'P2,1980-01-01,2024-01-01,English,-',
        'P3,1980-01-01,2024-01-01,en-US,N/A',
        'P4,1980-01-01,2024-01-01,Spanish,null',
        'P5,1980-01-01,2024-01-01, es_MX ,',
        'P6,1980-01-01,2024-01-01,Klingon,', // 8: unknown_enum
        'P7,1980-01-01,2024-01-01,xx,', // 9: unknown_enum (not an ISO 639-1 code)
        'P8,1980-01-01,2024-01-01,zh-Hant-TW,',
        'P9,1980-01-01,2024-01-01,eng,',
        'P10,1980-01-01,2024-01-01,hmn,',
        'P11,1980-01-01,2024-01-01,-,',
        'P12,1980-01-01,2024-01-01,Declined,',
      ].join('\n'));
      expect(await w.query('SELECT person_id, preferred_language AS lang, program_id FROM stg_people ORDER BY _line')).toEqual([
        { person_id: 'P1', lang: 'unknown', program_id: null },
        { person_id: 'P2', lang: 'en', program_id: null },
        { person_id: 'P3', lang: 'en', program_id: null },
        { person_id: 'P4', lang: 'es', program_id: null },
        { person_id: 'P5', lang: 'es', program_id: null },
        { person_id: 'P8', lang: 'zh', program_id: null },
        { person_id: 'P9', lang: 'en', program_id: null },
        { person_id: 'P10', lang: 'hmn', program_id: null },
        { person_id: 'P11', lang: 'unknown', program_id: null },
        { person_id: 'P12', lang: 'unknown', program_id: null },
      ]);
      expect(await w.query('SELECT line, rule, column_name FROM quarantine ORDER BY line')).toEqual([
        { line: 2, rule: 'missing_required', column_name: 'person_id' },
        { line: 8, rule: 'unknown_enum', column_name: 'preferred_language' },
        { line: 9, rule: 'unknown_enum', column_name: 'preferred_language' },
      ]);
      // Per mapping: no placeholders at all, or its own list.
      const claim = (files: string, missing: string[]): LoadedClaim => ({ ...ClaimSchema.parse({ entity: 'people', files, missing_values: missing }), mappingFile: 'test.json', mappingSha: 'x' });
      await w.load('roster_a.csv', 'person_id,birth_date,enrolled_from,program_id\nNA,1980-01-01,2024-01-01,N/A\n', claim('roster_a*', []));
      await w.load('roster_b.csv', 'person_id,birth_date,enrolled_from,program_id\nQ1,1980-01-01,2024-01-01,?\nQ2,1980-01-01,2024-01-01,NA\n', claim('roster_b*', ['?']));
      expect(await w.query(`SELECT person_id, program_id FROM stg_people WHERE _file LIKE 'roster%' ORDER BY 1`)).toEqual([
        { person_id: 'NA', program_id: 'N/A' }, { person_id: 'Q1', program_id: null }, { person_id: 'Q2', program_id: 'NA' },
      ]);
    } finally {
      w.close();
    }
    const doc = contractMarkdown();
    expect(doc).toContain('NULL, null, NA, N/A, n/a, -');
    expect(doc).toContain('| en | english, eng |');
  });

  it('item 10: pandas Parquet: midnight timestamps and whole doubles load; a time of day, a fraction or NaN are quarantined per row', async () => {
    const w = await memoryWarehouse();
    try {
      await w.load('people.csv', PEOPLE);
      const file = join(w.path(''), 'pandas.parquet');
      await w.db.conn.run(`COPY (SELECT * FROM (VALUES
          ('A1', 'P1', TIMESTAMP_NS '2024-03-01 00:00:00', 9.0::DOUBLE, 3.0::DOUBLE),
          ('A2', 'P1', TIMESTAMP_NS '2024-03-02 10:30:00', 9.0::DOUBLE, NULL),
          ('A3', 'P1', TIMESTAMP_NS '2024-03-03 00:00:00', 2.5::DOUBLE, NULL),
          ('A4', 'P2', TIMESTAMP_NS '2024-03-04 00:00:00', 'NaN'::DOUBLE, NULL)
        ) t(assessment_id, person_id, assessed_on, total_score, item_1)) TO '${file}' (FORMAT parquet)`);
      const types = await w.query<{ column_type: string }>(`SELECT column_type FROM (DESCRIBE SELECT * FROM '${file}')`);
      expect(types.map((t) => t.column_type)).toEqual(['VARCHAR', 'VARCHAR', 'TIMESTAMP_NS', 'DOUBLE', 'DOUBLE']);
      const r = await w.load('phq9.parquet', readFileSync(file));
      expect(r).toMatchObject({ rows_read: 4, rows_loaded: 1, rows_quarantined: 3 });
      expect(await w.query('SELECT assessment_id, assessed_on, total_score, item_1 FROM stg_phq9')).toEqual([{ assessment_id: 'A1', assessed_on: '2024-03-01', total_score: 9, item_1: 3 }]);
      expect(await w.query(`SELECT line, rule, column_name, raw_record->>'assessed_on' AS assessed_on FROM quarantine WHERE entity = 'phq9' ORDER BY line`)).toEqual([
        { line: 3, rule: 'bad_date', column_name: 'assessed_on', assessed_on: '2024-03-02 10:30:00' },
        { line: 4, rule: 'not_an_int', column_name: 'total_score', assessed_on: '2024-03-03' },
        { line: 5, rule: 'missing_required', column_name: 'total_score', assessed_on: '2024-03-04' },
      ]);
    } finally {
      w.close();
    }
  });

  it('item 10: a run blocked by a quality gate keeps its quarantine readable (closeloop quarantine) until a later run publishes', async () => {
    store = tempStore();
    store.add('people.csv', PEOPLE);
    expect((await store.run()).status).toBe('published');
    const bad = store.add('people_2.csv', 'person_id,birth_date,enrolled_from\nP3,1980-13-01,2024-01-01\nP4,1980-01-01,2024-01-01\n');
    const config = ConfigSchema.parse({ qualityGates: { overrides: { 'people.quarantine_block': { threshold: 0.1, minRows: 0 } } } });
    const blocked = await store.run({ config });
    expect(blocked.status).toBe('blocked');
    const r = await closeloop(['quarantine', '--db', store.root, '--json'], { cwd: store.root });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`Run ${blocked.run_id} was blocked by a data-quality gate`);
    expect(JSON.parse(r.stdout)).toMatchObject([{ file: 'people_2.csv', line: 2, rule: 'bad_date', status: 'open', run_id: blocked.run_id, raw_record: { person_id: 'P3', birth_date: '1980-13-01', enrolled_from: '2024-01-01' } }]);
    writeFileSync(bad, 'person_id,birth_date,enrolled_from\nP3,1980-12-01,2024-01-01\nP4,1980-01-01,2024-01-01\n');
    expect((await store.run({ config })).status).toBe('published');
    const after = await closeloop(['quarantine', '--db', store.root, '--json'], { cwd: store.root });
    expect([after.code, JSON.parse(after.stdout), after.stderr]).toEqual([0, [], '']);
  }, 30_000);

  it('item 11: a file that changes while the run reads it is rejected for this run ("will retry") and loads on the next', async () => {
    store = tempStore();
    store.add('people.csv', PEOPLE);
    const path = store.add('referrals.csv', `${REFERRALS}\nR1,P1,food,2024-03-01,ORG-1,pending\n`);
    let changed = false;
    // The run logs "Run <id>: N files to load" after hashing and before loading: the file changes in between.
    const s = await store.run({
      log: (l) => {
        if (!changed && l.startsWith('Run ')) {
          appendFileSync(path, 'R2,P2,food,2024-03-02,ORG-1,pending\n');
          changed = true;
        }
      },
    });
    expect(s.exit_code).toBe(2);
    expect(s.files.find((f) => f.file === 'referrals.csv')).toMatchObject({ rejected: true, rows_loaded: 0, message: 'referrals.csv: changed while reading; will retry on the next run' });
    expect(await store.warehouse('SELECT count(*) AS n FROM stg_referrals')).toEqual([{ n: 0 }]);
    expect(await ledgerFiles(store)).toEqual(['people.csv']);
    const next = await store.run();
    expect(next.exit_code).toBe(0);
    expect(await store.warehouse('SELECT referral_id FROM stg_referrals ORDER BY 1')).toEqual([{ referral_id: 'R1' }, { referral_id: 'R2' }]);
  });

  it('item 11: a later successful load of the same file marks its earlier quarantine records superseded', async () => {
    store = tempStore();
    store.add('people.csv', PEOPLE);
    const path = store.add('referrals.csv', `${REFERRALS}\nR1,P1,food,2024-03-01,ORG-1,done\nR2,P9,food,2024-03-01,ORG-1,pending\n`);
    const first = await store.run();
    expect(await store.warehouse('SELECT rule, status FROM quarantine ORDER BY line')).toEqual([{ rule: 'unknown_enum', status: 'open' }, { rule: 'orphan', status: 'open' }]);
    writeFileSync(path, `${REFERRALS}\nR1,P1,food,2024-03-01,ORG-1,pending\n`);
    const second = await store.run();
    expect(await store.warehouse('SELECT rule, status, run_id, resolved_run_id FROM quarantine ORDER BY line')).toEqual([
      { rule: 'unknown_enum', status: 'superseded', run_id: first.run_id, resolved_run_id: second.run_id },
      { rule: 'orphan', status: 'superseded', run_id: first.run_id, resolved_run_id: second.run_id },
    ]);
    // The superseded orphan is never retried, even once its person arrives.
    store.add('people_2.csv', 'person_id,birth_date,enrolled_from\nP9,1980-01-01,2024-01-01\n');
    await store.run();
    expect(await store.warehouse('SELECT referral_id FROM stg_referrals')).toEqual([{ referral_id: 'R1' }]);
  });

  it('item 12: one more field than the header is malformed_row even when empty; tabs around enums are trimmed; empty fields are "" in raw_record', async () => {
    const w = await memoryWarehouse();
    try {
      await w.load('people.csv', [
        'person_id,birth_date,enrolled_from,sex',
        'P1,1980-01-01,2024-01-01,female,', // one more (empty) field
        'P2,1980-01-01,2024-01-01,\tmale\t',
        ',1980-01-01,,',
      ].join('\n'));
      expect(await w.query('SELECT person_id, sex FROM stg_people')).toEqual([{ person_id: 'P2', sex: 'male' }]);
      expect(await w.query('SELECT line, rule, message, raw_record::VARCHAR AS raw FROM quarantine ORDER BY line')).toEqual([
        { line: 2, rule: 'malformed_row', message: 'record has 5 fields, the header 4 (the extra field is empty)', raw: '{"record":"P1,1980-01-01,2024-01-01,female,"}' },
        { line: 4, rule: 'missing_required', message: 'person_id is required but empty', raw: '{"person_id":"","birth_date":"1980-01-01","enrolled_from":"","sex":""}' },
      ]);
    } finally {
      w.close();
    }
  });
});

