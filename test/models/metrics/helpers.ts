// Test helpers: a tiny drop loaded into staging tables of an in-memory DuckDB, the metrics
// computed over it, and lookups of result rows. Expected values in the tests are worked out
// by hand (see the comments there), with an independent Wilson formula below.
import { contractColumns, ENTITIES, entityByName, type EntityName } from '../../../models/contracts/index.ts';
import { exec, openDatabase, rows, sqlString, type Database } from '../../../models/duckdb.ts';
import { computeMetrics, type ComputeMetricsOptions } from '../../../models/metrics/engine.ts';
import { stagingDDL, stagingTable } from '../../../models/staging/tables.ts';
import { ROSTER_SPANS_SQL } from '../../../pipelines/ingest/warehouseSchema.ts';

type Value = string | number | null;
export type Drop = Partial<Record<EntityName, Array<Record<string, Value>>>>;

/** Defaults for columns a fixture row leaves out (what the loader would have stored); a
 * person is covered from 2020-01-01 (a roster span) unless the row says otherwise. */
const DEFAULTS: Partial<Record<EntityName, Record<string, Value>>> = {
  people: {
    birth_date: '1980-01-01', sex: 'unknown', race_ethnicity: 'unknown', preferred_language: 'unknown', rurality: 'unknown',
    payer: 'unknown', enrolled_from: '2020-01-01',
  },
  coverage: { payer: 'unknown' },
  screenings: { instrument: 'ahc_hrsn' },
  referrals: { target_org_id: 'ORG-A' },
};

export async function loadDrop(drop: Drop): Promise<Database> {
  const db = await openDatabase(':memory:', { threads: 1, memoryLimit: '512MB' });
  for (const entity of ENTITIES) await exec(db.conn, stagingDDL(entity));
  for (const [name, data] of Object.entries(drop) as Array<[EntityName, Array<Record<string, Value>>]>) {
    if (data.length === 0) continue;
    const columns = contractColumns(entityByName(name)).map((c) => c.name);
    const values = data.map((row) => {
      const full = { ...DEFAULTS[name], ...row };
      for (const k of Object.keys(full)) if (!columns.includes(k)) throw new Error(`${name}: no column ${k}`);
      return `(${columns.map((c) => {
        const v = full[c];
        return v === undefined || v === null ? 'NULL' : typeof v === 'number' ? String(v) : sqlString(v);
      }).join(', ')})`;
    });
    await exec(db.conn, `INSERT INTO ${stagingTable(name)} (${columns.join(', ')}) VALUES ${values.join(',\n')}`);
  }
  // the roster's spans as coverage rows, as the loader makes them (a person given
  // enrolled_from: null has only the coverage rows the drop lists)
  await exec(db.conn, ROSTER_SPANS_SQL);
  return db;
}

export interface ResultRow {
  metric_id: string;
  period_grain: string;
  period_start: string;
  period_end: string;
  dimension: string;
  group_value: string;
  numerator: number | null;
  denominator: number | null;
  value: number | null;
  ci_low: number | null;
  ci_high: number | null;
  suppressed: boolean;
  note: string | null;
  run_id: string;
  as_of: string;
  period_status: string;
  unreliable: boolean | null;
}

export interface Computed {
  db: Database;
  all: ResultRow[];
  /** The one row of metric x grain x period x dimension x group, or undefined. */
  get(metric: string, grain: string, periodStart: string | null, dimension?: string, group?: string): ResultRow | undefined;
  /** All rows of a metric, optionally filtered. */
  of(metric: string, filter?: Partial<Pick<ResultRow, 'period_grain' | 'period_start' | 'dimension' | 'group_value'>>): ResultRow[];
  close(): void;
}

export async function computeDrop(drop: Drop, opts: Partial<ComputeMetricsOptions> & { asOf: string }): Promise<Computed> {
  const db = await loadDrop(drop);
  await computeMetrics(db.conn, { runId: 'test-run', ...opts });
  const all = await rows<ResultRow>(db.conn, 'SELECT * FROM metric_results');
  const byMetric = new Map<string, ResultRow[]>();
  for (const r of all) {
    const list = byMetric.get(r.metric_id) ?? [];
    list.push(r);
    byMetric.set(r.metric_id, list);
  }
  const of: Computed['of'] = (metric, filter = {}) =>
    (byMetric.get(metric) ?? []).filter((r) => Object.entries(filter).every(([k, v]) => r[k as keyof ResultRow] === v));
  return {
    db,
    all,
    of,
    get(metric, grain, periodStart, dimension = 'all', group = 'all') {
      const found = (byMetric.get(metric) ?? []).filter((r) => r.period_grain === grain && (periodStart === null || r.period_start === periodStart)
        && r.dimension === dimension && r.group_value === group);
      if (found.length > 1) throw new Error(`${found.length} rows for ${metric} ${grain} ${periodStart} ${dimension} ${group}`);
      return found[0];
    },
    close: () => db.close(),
  };
}

/**
 * Wilson score interval written out from the textbook formula (Wilson 1927; Newcombe 1998
 * method 3), independent of models/stats: (p + z²/2n ± z sqrt(p(1-p)/n + z²/4n²)) / (1 + z²/n).
 */
export function wilsonByFormula(x: number, n: number): [number, number] {
  const z = 1.959963984540054;
  const p = x / n;
  const centre = p + (z * z) / (2 * n);
  const half = z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n));
  const d = 1 + (z * z) / n;
  return [Math.max(0, (centre - half) / d), Math.min(1, (centre + half) / d)];
}
