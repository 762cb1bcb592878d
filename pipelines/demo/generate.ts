/**
 * Deterministic demo extracts: one CSV per contract entity, generated
 * entirely inside an in-memory DuckDB (see sql/*.sql and README.md). The
 * same options give byte-identical files; a million people take well under
 * a minute on two cores.
 */
import { mkdir, mkdtemp, readFile, rename, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { PLANTED_BAD_ROWS, type Entity, type RawRow } from './planted.ts';
import { lit, referenceSql } from './referenceSql.ts';

export interface DemoOptions {
  people: number;
  seed: number;
  outDir: string;
  /** Length of the window in months (default 24). */
  months?: number;
  /** Last day of the window, YYYY-MM-DD (default '2026-10-31'): no event is later. */
  endDate?: string;
  /**
   * Referrals change ED use and PHQ-9 (default true): the planted effects (ED x0.6 from the
   * second month after a first referral, x0.65 after a need is met, the housing excess ending;
   * PHQ-9 improving by 62% instead of 30% once a need is met). false: the no-effect demo, for
   * the evaluation's null test; the crisis before a referral stays.
   */
  referralEffect?: boolean;
  /** DuckDB threads (default: the machine's cores). Output does not depend on it. */
  threads?: number;
  /** DuckDB memory_limit (default '6GB'). */
  memoryLimit?: string;
  /** Progress messages (each step and file, with seconds since the start). */
  log?: (message: string) => void;
}

export interface DemoResult {
  files: Array<{ file: string; entity: string; rows: number }>;
  seconds: number;
}

export const DEMO_DEFAULTS = { people: 20_000, seed: 42, months: 24, endDate: '2026-10-31' } as const;

/** The contract's columns, in the contract's order, per entity and file. */
export const DEMO_FILES: Array<{ entity: Entity; file: string; columns: string[] }> = [
  {
    entity: 'people',
    file: 'people.csv',
    columns: ['person_id', 'birth_date', 'sex', 'race_ethnicity', 'preferred_language', 'zip', 'county_fips', 'rurality', 'payer', 'program_id', 'enrolled_from', 'enrolled_through'],
  },
  { entity: 'coverage', file: 'coverage.csv', columns: ['person_id', 'coverage_from', 'coverage_through', 'payer', 'program_id', 'plan_id'] },
  { entity: 'screenings', file: 'screenings.csv', columns: ['screening_id', 'person_id', 'screened_on', 'instrument', 'domain', 'result'] },
  {
    entity: 'referrals',
    file: 'referrals.csv',
    columns: ['referral_id', 'person_id', 'need_domain', 'referred_on', 'source_org_id', 'target_org_id', 'program_id', 'status', 'accepted_on', 'service_started_on', 'closed_on', 'outcome'],
  },
  {
    entity: 'enrollments',
    file: 'enrollments.csv',
    columns: ['enrollment_id', 'person_id', 'program', 'domain', 'referral_id', 'applied_on', 'enrolled_on', 'ended_on', 'status'],
  },
  {
    entity: 'phq9',
    file: 'phq9.csv',
    columns: ['assessment_id', 'person_id', 'assessed_on', 'total_score', ...Array.from({ length: 9 }, (_, i) => `item_${i + 1}`)],
  },
  { entity: 'encounters', file: 'encounters.csv', columns: ['encounter_id', 'person_id', 'encounter_type', 'start_date', 'end_date', 'paid_amount'] },
  { entity: 'services', file: 'services.csv', columns: ['program_id', 'org_id', 'org_name', 'program_name', 'domain', 'county_fips', 'monthly_capacity'] },
];

/** The SQL files, run in this order; each builds one entity from the ones before it. */
const SQL_STEPS = ['random', 'people', 'screenings', 'referrals', 'enrollments', 'phq9', 'encounters', 'services'] as const;

const SQL_DIR = fileURLToPath(new URL('./sql/', import.meta.url));
const MAX_PEOPLE = 9_999_999; // person ids are P + 7 digits

function isoDate(s: string): Date {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(s)) throw new Error(`endDate must be YYYY-MM-DD, got '${s}'`);
  const d = new Date(`${s}T00:00:00Z`);
  if (Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== s) throw new Error(`endDate is not a real date: '${s}'`);
  return d;
}

/** First day of the window: the day after endDate, minus `months` months. */
export function windowStart(endDate: string, months: number): string {
  const d = isoDate(endDate);
  d.setUTCDate(d.getUTCDate() + 1);
  const day = d.getUTCDate();
  d.setUTCDate(1);
  d.setUTCMonth(d.getUTCMonth() - months);
  // Keep the day of month, clamped to the month's length (as DuckDB's date - interval does).
  const last = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate();
  d.setUTCDate(Math.min(day, last));
  return d.toISOString().slice(0, 10);
}

function daysBefore(endDate: string, n: number): string {
  const d = isoDate(endDate);
  d.setUTCDate(d.getUTCDate() - n);
  return d.toISOString().slice(0, 10);
}

/** Fill {{name}} placeholders; every placeholder must have a value. */
export function renderSql(template: string, params: Record<string, string | number>): string {
  return template.replace(/\{\{(\w+)\}\}/g, (_, name: string) => {
    const v = params[name];
    if (v === undefined) throw new Error(`SQL placeholder {{${name}}} has no value`);
    return String(v);
  });
}

/** Resolve `{end-N}` in a planted row's text to the date N days before endDate. */
function resolveRow(row: RawRow, endDate: string): RawRow {
  const out: RawRow = {};
  for (const [k, v] of Object.entries(row)) {
    out[k] = v === null ? null : v.replace(/\{end-(\d+)\}/g, (_, n: string) => daysBefore(endDate, Number(n)));
  }
  return out;
}

/**
 * The planted bad rows of one entity as a table shaped like `<entity>_out`,
 * with sort keys that put each row at its own place in the file (after
 * person i * people / (n + 1); the first copy of a duplicate just before
 * it). Their text is inserted into the view's column types: text columns
 * keep any value; a typed column (encounters' dates and amounts) fails
 * loudly if a planted value cannot be written through it.
 */
function badRowsSql(entity: Entity, columns: string[], people: number, endDate: string): string {
  const planted = PLANTED_BAD_ROWS.filter((b) => b.entity === entity);
  const rows: string[] = [];
  planted.forEach((b, i) => {
    const s1 = entity === 'services' ? 1_000_000 + i : Math.max(1, Math.floor(((i + 1) * people) / (planted.length + 1)));
    const copies = b.firstCopy ? [b.firstCopy, b.row] : [b.row];
    copies.forEach((raw, c) => {
      const row = resolveRow(raw, endDate);
      for (const k of Object.keys(row)) if (!columns.includes(k)) throw new Error(`planted ${entity} row ${b.key}: unknown column ${k}`);
      rows.push(`(${[...columns.map((col) => lit(row[col] ?? null)), String(s1), String(1_000_000 + i), String(c)].join(', ')})`);
    });
  });
  const create = `CREATE TABLE bad_${entity} AS SELECT * FROM ${entity}_out LIMIT 0;`;
  if (rows.length === 0) return create;
  return `${create}\nINSERT INTO bad_${entity} (${[...columns, 's1', 's2', 's3'].join(', ')}) VALUES\n  ${rows.join(',\n  ')};`;
}

function sqlString(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

async function runFile(conn: DuckDBConnection, name: string, params: Record<string, string | number>): Promise<void> {
  const template = await readFile(join(SQL_DIR, `${name}.sql`), 'utf8');
  await conn.run(renderSql(template, params));
}

function validate(opts: DemoOptions): Required<Omit<DemoOptions, 'threads' | 'memoryLimit' | 'log' | 'referralEffect'>> {
  const months = opts.months ?? DEMO_DEFAULTS.months;
  const endDate = opts.endDate ?? DEMO_DEFAULTS.endDate;
  if (!Number.isInteger(opts.people) || opts.people < 1 || opts.people > MAX_PEOPLE) {
    throw new Error(`people must be an integer from 1 to ${MAX_PEOPLE}, got ${opts.people}`);
  }
  if (!Number.isSafeInteger(opts.seed) || opts.seed < 0) throw new Error(`seed must be a non-negative integer, got ${opts.seed}`);
  if (!Number.isInteger(months) || months < 6 || months > 120) throw new Error(`months must be an integer from 6 to 120, got ${months}`);
  isoDate(endDate);
  if (!opts.outDir) throw new Error('outDir is required');
  return { people: opts.people, seed: opts.seed, outDir: opts.outDir, months, endDate };
}

export async function generateDemo(opts: DemoOptions): Promise<DemoResult> {
  const started = performance.now();
  const o = validate(opts);
  const outDir = resolve(o.outDir);
  await mkdir(outDir, { recursive: true });
  const spill = await mkdtemp(join(tmpdir(), 'closeloop-demo-'));
  const params = {
    seed: o.seed,
    people: o.people,
    months: o.months,
    end_date: o.endDate,
    start_date: windowStart(o.endDate, o.months),
    referral_effect: opts.referralEffect === false ? 'FALSE' : 'TRUE',
  };
  const instance = await DuckDBInstance.create(':memory:', {
    threads: String(opts.threads ?? availableParallelism()),
    memory_limit: opts.memoryLimit ?? '6GB',
    temp_directory: spill,
    preserve_insertion_order: 'true',
  });
  try {
    const conn = await instance.connect();
    const log = (m: string) => opts.log?.(`${((performance.now() - started) / 1000).toFixed(1)}s ${m}`);
    await conn.run(referenceSql(o.people));
    for (const step of SQL_STEPS) {
      await runFile(conn, step, params);
      log(`built ${step}`);
    }
    const files: DemoResult['files'] = [];
    for (const f of DEMO_FILES) {
      await conn.run(badRowsSql(f.entity, f.columns, o.people, o.endDate));
      const cols = f.columns.join(', ');
      // Written under a name no entity claims, then renamed: a reader never sees half a file.
      const partial = join(outDir, `.${f.file}.partial`);
      // Sorted by the generator's keys (person, sequence, ...), which follow the id order.
      const reader = await conn.runAndReadAll(
        `COPY (SELECT ${cols} FROM (SELECT * FROM ${f.entity}_out UNION ALL SELECT * FROM bad_${f.entity}) ORDER BY s1, s2, s3)
         TO ${sqlString(partial)} (FORMAT csv, HEADER, DELIMITER ',')`,
      );
      await rename(partial, join(outDir, f.file));
      const count = reader.getRowObjectsJson()[0]?.['Count'];
      files.push({ file: f.file, entity: f.entity, rows: Number(count) });
      log(`wrote ${f.file} (${count} rows)`);
    }
    conn.closeSync();
    return { files, seconds: (performance.now() - started) / 1000 };
  } finally {
    instance.closeSync();
    await rm(spill, { recursive: true, force: true });
  }
}
