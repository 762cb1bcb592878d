// Every contract rule has a negative fixture (test/fixtures/ingest/negative/<case>/):
// one bad row among valid ones, and the rule, line and column it must produce.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { memoryWarehouse } from '../../helpers/loader.ts';
import { FIXTURES } from '../../helpers/store.ts';

const dir = join(FIXTURES, 'ingest/negative');
const cases = readdirSync(dir).sort();

describe('negative fixtures: one per contract rule', () => {
  it('covers every rule id the contract names', () => {
    const rules = new Set(cases.map((c) => JSON.parse(readFileSync(join(dir, c, 'expected.json'), 'utf8')).rule));
    for (const r of ['missing_required', 'bad_date', 'unknown_enum', 'not_an_int', 'out_of_range', 'too_long', 'not_5_digits',
      'date_order', 'items_do_not_sum', 'future_date', 'before_1900', 'malformed_row', 'orphan', 'duplicate_key', 'coverage_conflict']) {
      expect(rules, r).toContain(r);
    }
  });

  it.each(cases)('%s', async (name) => {
    const expected = JSON.parse(readFileSync(join(dir, name, 'expected.json'), 'utf8'));
    const file = readdirSync(join(dir, name)).find((f) => f !== 'expected.json')!;
    const store = await memoryWarehouse();
    const people = await store.load('people.csv', readFileSync(join(FIXTURES, 'ingest/base/people.csv'), 'utf8'));
    expect(people.rows_loaded).toBe(3);
    const report = await store.load(file, readFileSync(join(dir, name, file), 'utf8'));
    expect(report.rejected).toBe(false);
    expect(report.rows_loaded).toBe(expected.loaded);
    expect(report.rows_quarantined).toBe(1);
    const q = await store.query<{ line: number; rule: string; column_name: string | null; message: string; raw_record: string }>(
      `SELECT line, rule, column_name, message, raw_record::VARCHAR AS raw_record FROM quarantine WHERE file = '${file}'`);
    expect(q).toHaveLength(1);
    expect(q[0]).toMatchObject({ rule: expected.rule, line: expected.line, column_name: expected.column });
    expect(q[0]!.message.length).toBeGreaterThan(10);
    expect(q[0]!.raw_record.length).toBeGreaterThan(5);
    store.close();
  });
});
