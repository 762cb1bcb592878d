// The coverage entity at load: many spans per person, the roster's span loading as a
// coverage row, and contradictions (two payers or two programs on one day) quarantined as
// coverage_conflict, never loaded and never silently resolved.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, rows } from '../../../models/duckdb.ts';
import { prepareWarehouse } from '../../../pipelines/ingest/warehouseSchema.ts';
import { memoryWarehouse, type MemoryWarehouse } from '../../helpers/loader.ts';
import { retryOrphans } from '../../../pipelines/ingest/retryOrphans.ts';
import { coverage } from '../../../models/contracts/index.ts';

const PEOPLE_HEADER = 'person_id,birth_date,sex,race_ethnicity,preferred_language,zip,county_fips,rurality,payer,program_id,enrolled_from,enrolled_through';
const COVERAGE_HEADER = 'person_id,coverage_from,coverage_through,payer,program_id,plan_id';
const csv = (header: string, lines: string[]) => [header, ...lines].join('\n') + '\n';

interface Span { person_id: string; coverage_from: string; coverage_through: string | null; payer: string; program_id: string | null; _file: string }
interface Quarantined { file: string; entity: string; line: number; rule: string; column_name: string; message: string; status: string }

let w: MemoryWarehouse;
beforeEach(async () => {
  w = await memoryWarehouse();
});
afterEach(() => w.close());

const spans = () => w.query<Span>('SELECT person_id, coverage_from, coverage_through, payer, program_id, _file FROM stg_coverage ORDER BY person_id, coverage_from');
const quarantined = () => w.query<Quarantined>('SELECT file, entity, line, rule, column_name, message, status FROM quarantine ORDER BY file, line');

describe('the roster span loads as a coverage row', () => {
  it('regression: a re-enrollment on the roster adds a span instead of erasing the earlier one', async () => {
    // Before coverage, a person had one span on the roster and the 2024 row replaced the 2023
    // one: a 2023 ED visit made while enrolled, and the 2023 member-months, were lost.
    await w.load('people_2023.csv', csv(PEOPLE_HEADER, ['P1,1980-01-01,female,white,en,,,,medicaid,ACO-1,2023-01-01,2023-08-31']));
    await w.load('people_2024.csv', csv(PEOPLE_HEADER, ['P1,1980-01-01,female,white,en,,,,medicaid,ACO-1,2024-02-01,']));
    expect(await spans()).toEqual([
      { person_id: 'P1', coverage_from: '2023-01-01', coverage_through: '2023-08-31', payer: 'medicaid', program_id: 'ACO-1', _file: 'people_2023.csv' },
      { person_id: 'P1', coverage_from: '2024-02-01', coverage_through: null, payer: 'medicaid', program_id: 'ACO-1', _file: 'people_2024.csv' },
    ]);
    expect(await w.query('SELECT enrolled_from FROM stg_people')).toEqual([{ enrolled_from: '2024-02-01' }]);
  });

  it('a roster row re-sent with the same start replaces its span (the span ended)', async () => {
    await w.load('people.csv', csv(PEOPLE_HEADER, ['P1,1980-01-01,,,,,,,medicaid,,2023-01-01,']));
    await w.load('people_2.csv', csv(PEOPLE_HEADER, ['P1,1980-01-01,,,,,,,medicaid,,2023-01-01,2023-06-30']));
    expect((await spans()).map((s) => [s.coverage_from, s.coverage_through])).toEqual([['2023-01-01', '2023-06-30']]);
  });

  it('a later roster row with another start ends the earlier roster span the day before (the roster holds the current span)', async () => {
    await w.load('people.csv', csv(PEOPLE_HEADER, ['P8,1970-01-01,,,,,,,dual,,2024-01-01,']));
    await w.load('coverage.csv', csv(COVERAGE_HEADER, ['P8,2020-01-01,2023-12-31,medicaid,,']));
    const r = await w.load('people_2025-06.csv', csv(PEOPLE_HEADER, ['P8,1970-01-01,,,,,,,commercial,,2024-03-01,']));
    expect(r.rows_quarantined).toBe(0);
    expect((await spans()).map((s) => `${s.coverage_from}..${s.coverage_through} ${s.payer}`)).toEqual([
      '2020-01-01..2023-12-31 medicaid', '2024-01-01..2024-02-29 dual', '2024-03-01..null commercial',
    ]);
  });

  it('a roster row never shortens a span from a coverage file: a contradiction is quarantined instead', async () => {
    await w.load('people.csv', csv(PEOPLE_HEADER, ['P8,1970-01-01,,,,,,,,,,']));
    await w.load('coverage.csv', csv(COVERAGE_HEADER, ['P8,2024-01-01,,dual,,']));
    const r = await w.load('people_2.csv', csv(PEOPLE_HEADER, ['P8,1970-01-01,,,,,,,commercial,,2024-03-01,']));
    expect(r.reasons).toEqual([{ rule: 'coverage_conflict', column: 'enrolled_from', count: 1 }]);
    expect((await spans()).map((s) => `${s.coverage_from}..${s.coverage_through} ${s.payer}`)).toEqual(['2024-01-01..null dual']);
  });

  it('a person without a roster span loads, with no coverage; an end without a start is an error', async () => {
    const r = await w.load('people.csv', csv(PEOPLE_HEADER, ['P1,1980-01-01,,,,,,,,,,', 'P2,1980-01-01,,,,,,,,,,2024-01-01']));
    expect([r.rows_loaded, r.rows_quarantined]).toEqual([1, 1]);
    expect(await quarantined()).toMatchObject([{ line: 3, rule: 'missing_required', column_name: 'enrolled_from' }]);
    expect(await spans()).toEqual([]);
  });

  it('a roster span that contradicts a loaded span is quarantined; the person still loads', async () => {
    await w.load('people.csv', csv(PEOPLE_HEADER, ['P1,1980-01-01,,,,,,,,,,']));
    await w.load('coverage.csv', csv(COVERAGE_HEADER, ['P1,2024-01-01,,medicaid,ACO-1,']));
    const r = await w.load('people_2.csv', csv(PEOPLE_HEADER, ['P1,1980-01-01,female,,,,,,commercial,ACO-1,2024-05-01,']));
    expect(r.rows_loaded).toBe(1);
    expect(r.reasons).toEqual([{ rule: 'coverage_conflict', column: 'enrolled_from', count: 1 }]);
    expect(await w.query('SELECT sex FROM stg_people')).toEqual([{ sex: 'female' }]);
    expect((await spans()).map((s) => s.payer)).toEqual(['medicaid']);
    const [q] = await quarantined();
    expect(q).toMatchObject({ file: 'people_2.csv', entity: 'people', line: 2, rule: 'coverage_conflict', status: 'open' });
    expect(q!.message).toBe('coverage 2024-05-01..open commercial program ACO-1 overlaps the loaded span 2024-01-01..open medicaid program ACO-1 '
      + '(coverage.csv line 2): two payers on one day; send the corrected spans of this person together in one file');
  });
});

describe('coverage files', () => {
  beforeEach(async () => {
    await w.load('people.csv', csv(PEOPLE_HEADER, ['P1,1980-01-01,,,,,,,,,,', 'P2,1980-01-01,,,,,,,,,,', 'P3,1980-01-01,,,,,,,,,,']));
  });

  it('loads many spans per person; overlaps with the same payer and program load (merged later, for person-time)', async () => {
    const r = await w.load('coverage.csv', csv(COVERAGE_HEADER, [
      'P1,2023-01-01,2023-03-31,medicaid,ACO-1,A',
      'P1,2023-03-01,2023-06-30,medicaid,ACO-1,B', // overlaps the first: same payer and program (another plan)
      'P1,2023-09-01,,commercial,,', // after a gap, another payer
      'P2,2023-01-01,2023-12-31,Medicaid,ACO-2,', // case-insensitive enum
    ]));
    expect([r.rows_loaded, r.rows_quarantined]).toEqual([4, 0]);
    expect((await spans()).map((s) => `${s.person_id} ${s.coverage_from} ${s.payer} ${s.program_id}`)).toEqual([
      'P1 2023-01-01 medicaid ACO-1', 'P1 2023-03-01 medicaid ACO-1', 'P1 2023-09-01 commercial null', 'P2 2023-01-01 medicaid ACO-2',
    ]);
  });

  it('two payers or two programs on one day in one file: every span involved is quarantined', async () => {
    const r = await w.load('coverage.csv', csv(COVERAGE_HEADER, [
      'P1,2023-01-01,2023-06-30,medicaid,ACO-1,',
      'P1,2023-06-30,,commercial,ACO-1,', // shares 2023-06-30 with line 2
      'P2,2023-01-01,,medicaid,ACO-1,',
      'P2,2024-01-01,2024-03-31,medicaid,ACO-2,', // inside line 4's open span, another program
      'P3,2023-01-01,2023-06-30,medicaid,ACO-1,',
      'P3,2023-07-01,,commercial,ACO-1,', // the next day: no contradiction
    ]));
    expect([r.rows_loaded, r.rows_quarantined]).toEqual([2, 4]);
    const q = await quarantined();
    expect(q.map((x) => [x.line, x.rule, x.column_name])).toEqual([
      [2, 'coverage_conflict', 'coverage_from'], [3, 'coverage_conflict', 'coverage_from'],
      [4, 'coverage_conflict', 'coverage_from'], [5, 'coverage_conflict', 'coverage_from'],
    ]);
    expect(q[0]!.message).toMatch(/^coverage 2023-01-01\.\.2023-06-30 medicaid program ACO-1 overlaps 2023-06-30\.\.open commercial program ACO-1 \(coverage\.csv line 3, in the same load\): two payers on one day/);
    expect(q[2]!.message).toMatch(/two programs on one day/);
    expect((await spans()).map((s) => `${s.person_id} ${s.coverage_from}`)).toEqual(['P3 2023-01-01', 'P3 2023-07-01']);
  });

  it('a span that contradicts a loaded one is quarantined; the corrected spans sent together load', async () => {
    await w.load('coverage_1.csv', csv(COVERAGE_HEADER, ['P1,2023-01-01,,medicaid,ACO-1,']));
    const r = await w.load('coverage_2.csv', csv(COVERAGE_HEADER, ['P1,2023-07-01,,commercial,ACO-1,']));
    expect([r.rows_loaded, r.rows_quarantined]).toEqual([0, 1]);
    expect((await spans()).map((s) => s.coverage_through)).toEqual([null]);
    // the first span closed and the new one in one file: the key replaces the loaded span
    const fixed = await w.load('coverage_3.csv', csv(COVERAGE_HEADER, ['P1,2023-01-01,2023-06-30,medicaid,ACO-1,', 'P1,2023-07-01,,commercial,ACO-1,']));
    expect([fixed.rows_loaded, fixed.rows_quarantined]).toEqual([2, 0]);
    expect((await spans()).map((s) => `${s.coverage_from} ${s.coverage_through} ${s.payer}`)).toEqual(['2023-01-01 2023-06-30 medicaid', '2023-07-01 null commercial']);
  });

  it('an orphan span loads once its person arrives, unless it contradicts a loaded span then', async () => {
    await w.load('coverage.csv', csv(COVERAGE_HEADER, ['P9,2023-01-01,,medicaid,,', 'P8,2023-01-01,,medicaid,,']));
    await w.load('people_2.csv', csv(PEOPLE_HEADER, ['P9,1980-01-01,,,,,,,,,,', 'P8,1980-01-01,,,,,,,commercial,,2023-05-01,']));
    const r = await retryOrphans(w.db.conn, coverage, 'run-2');
    expect(r).toEqual({ loaded: 1, superseded: 0 });
    expect((await spans()).map((s) => `${s.person_id} ${s.coverage_from} ${s.payer}`)).toEqual(['P8 2023-05-01 commercial', 'P9 2023-01-01 medicaid']);
    const q = await w.query<{ rule: string; status: string; message: string }>(`SELECT rule, status, message FROM quarantine WHERE file = 'coverage.csv' ORDER BY line`);
    expect(q.map((x) => [x.rule, x.status])).toEqual([['orphan', 'resolved'], ['coverage_conflict', 'open']]);
    expect(q[1]!.message).toMatch(/^coverage 2023-01-01\.\.open medicaid no program overlaps the loaded span 2023-05-01\.\.open commercial no program \(people_2\.csv line 3\)/);
  });
});

describe('death dates and hospice encounters', () => {
  it('death_date is optional, not before birth, not in the future; hospice is an encounter type', async () => {
    const r = await w.load('people.csv', csv(`${PEOPLE_HEADER},death_date`, [
      'P1,1950-01-01,,,,,,,,,2020-01-01,,2024-03-01',
      'P2,1950-01-01,,,,,,,,,2020-01-01,,1949-12-31',
      'P3,1950-01-01,,,,,,,,,2020-01-01,,2099-01-01',
    ]));
    expect(r.rows_loaded).toBe(1);
    expect((await quarantined()).map((q) => [q.line, q.rule, q.column_name])).toEqual([[3, 'date_order', 'death_date'], [4, 'future_date', 'death_date']]);
    const e = await w.load('encounters.csv', 'encounter_id,person_id,encounter_type,start_date,end_date,paid_amount\nV1,P1,Hospice,2024-02-01,2024-03-01,100\n');
    expect(e.rows_loaded).toBe(1);
  });
});

describe('a warehouse made before coverage existed', () => {
  it('is brought up to the contract: new columns, enrolled_from optional, the loaded roster spans as coverage rows', async () => {
    const db = await openDatabase(':memory:', { threads: 1 });
    try {
      // stg_people as the previous version made it: enrolled_from required, no death_date
      await db.conn.run(`CREATE TABLE stg_people (person_id VARCHAR NOT NULL, birth_date DATE NOT NULL, sex VARCHAR NOT NULL, race_ethnicity VARCHAR NOT NULL,
        preferred_language VARCHAR NOT NULL, zip VARCHAR, county_fips VARCHAR, rurality VARCHAR NOT NULL, payer VARCHAR NOT NULL, program_id VARCHAR,
        enrolled_from DATE NOT NULL, enrolled_through DATE, _file VARCHAR, _line BIGINT, _run_id VARCHAR)`);
      await db.conn.run(`INSERT INTO stg_people VALUES ('P1', '1980-01-01', 'female', 'white', 'en', NULL, NULL, 'urban', 'medicaid', 'ACO-1', '2023-01-01', '2023-12-31', 'people.csv', 2, 'run-1')`);
      await prepareWarehouse(db.conn);
      expect(await rows(db.conn, `SELECT person_id, coverage_from, coverage_through, payer, program_id, _file, _line, _run_id, _roster FROM stg_coverage`)).toEqual([
        { person_id: 'P1', coverage_from: '2023-01-01', coverage_through: '2023-12-31', payer: 'medicaid', program_id: 'ACO-1', _file: 'people.csv', _line: 2, _run_id: 'run-1', _roster: true },
      ]);
      await db.conn.run(`INSERT INTO stg_people (person_id, birth_date, sex, race_ethnicity, preferred_language, rurality, payer, enrolled_from, death_date)
        VALUES ('P2', '1980-01-01', 'unknown', 'unknown', 'unknown', 'unknown', 'unknown', NULL, '2024-01-01')`);
      // a second preparation changes nothing
      await prepareWarehouse(db.conn);
      expect(await rows(db.conn, 'SELECT count(*) AS n FROM stg_coverage')).toEqual([{ n: 1 }]);
    } finally {
      db.close();
    }
  });
});
