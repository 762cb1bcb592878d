// The independent audit of a published (suppressed) results table (metrics.md,
// "Disclosure control"). Written separately from the suppressor: it shares no code with
// suppress.ts / relationsSql.ts / suppressionCore.ts; it rebuilds the relations from the
// published rows themselves (metric_id, period_grain, period_start, dimension,
// group_value) and the catalog's additive / counted-unit answers (metricMeta.ts), and
// checks the rule as a reader of the table could attack it:
//  - primary: no shown count (numerator, denominator, complement, count value,
//    person-time) in 1..threshold-1;
//  - relations: in every relation whose whole is shown, whole minus the shown parts is 0 or
//    >= threshold, for every count-like figure; a suppressed whole gives nothing;
//  - derived: substituting relations into each other (a relation with its whole known and
//    one part unknown gives that part; a relation with an unknown whole and all parts known
//    gives the whole), nothing withheld becomes known as a count in 1..threshold-1, and no
//    relation's withheld total over what stays unknown is in 1..threshold-1;
//  - withheld figures: a suppressed row shows no numerator, denominator, value, interval
//    or statistic; a comparison against a suppressed reference group shows no statistic.
// The relations: (a) the groups of a one-way cut add up to the `all` row where each unit is
// in exactly one group; (b) two-way cells add up to each one-way margin; (c) for metrics
// additive over time, months add up to quarters, quarters to years, years to the whole
// span (grain `all`). A count several metrics publish (found as a reader would: a
// numerator or denominator equal to another metric's on every row both show, at least
// SHARED_MIN_ROWS non-zero ones) is known wherever any of them shows it: it is audited as
// one more "metric" whose rows are shown where any member shows them.
//
// Rows are dictionary-encoded (ids per distinct metric, grain, period_start, dimension,
// group value; DuckDB does the encoding when the rows come from a table or CSV) so a table
// of a million rows is audited on numeric keys.
import type { DuckDBConnection } from '@duckdb/node-api';
import { openDatabase } from '../duckdb.ts';
import { metricMetaMap, type MetricInput, type MetricMeta } from './metricMeta.ts';

export interface AuditRow {
  metric_id: string;
  period_grain: string;
  period_start: string;
  dimension: string;
  group_value: string;
  numerator: number | null;
  denominator: number | null;
  value: number | null;
  suppressed: boolean | null;
  ci_low?: number | null;
  ci_high?: number | null;
  reference_group?: string | null;
  rate_difference?: number | null;
  rd_ci_low?: number | null;
  rd_ci_high?: number | null;
  rate_ratio?: number | null;
  rr_ci_low?: number | null;
  rr_ci_high?: number | null;
  p_value?: number | null;
  q_value?: number | null;
  disparity_flag?: boolean | null;
}

export type AuditRelation = 'catalog' | 'primary' | 'withheld_figures' | 'reference' | 'one_way' | 'two_way' | 'time' | 'derived';

export interface AuditViolation {
  relation: AuditRelation;
  /** the metric, or `~shared(a.denominator=b.denominator)` for a count several metrics publish */
  metric_id: string;
  period_grain: string;
  period_start: string;
  dimension: string;
  group_value: string;
  message: string;
}

export interface AuditReport {
  ok: boolean;
  rows: number;
  relations: number;
  violations: AuditViolation[];
}

export interface AuditOptions {
  metrics: readonly MetricInput[];
  threshold: number;
  /** With a connection: the table to read (default metric_results). */
  table?: string;
}

const STAT_FIELDS = ['rate_difference', 'rd_ci_low', 'rd_ci_high', 'rate_ratio', 'rr_ci_low', 'rr_ci_high', 'p_value', 'q_value', 'disparity_flag'] as const;
const FIGURE_FIELDS = ['numerator', 'denominator', 'value', 'ci_low', 'ci_high', ...STAT_FIELDS] as const;
const QUANTITY_NAMES = ['numerator', 'denominator', 'complement'] as const;
const KEY_FIELDS = ['metric', 'grain', 'start', 'dimension', 'group'] as const;
type KeyField = (typeof KEY_FIELDS)[number];

/** The published rows, column by column; key columns as ids into dict. */
interface AuditTable {
  n: number;
  dict: Record<KeyField, string[]>;
  metric: Int32Array;
  grain: Int32Array;
  start: Int32Array;
  dimension: Int32Array;
  group: Int32Array;
  numerator: Float64Array;
  denominator: Float64Array;
  value: Float64Array;
  suppressed: Uint8Array;
  /** reference_group as a group id; -1 when empty or not a group of the table */
  reference: Int32Array;
  /** bit k: FIGURE_FIELDS[k] is not empty */
  figures: Uint32Array;
}

export async function auditResults(input: readonly AuditRow[] | DuckDBConnection, opts: AuditOptions): Promise<AuditReport> {
  checkAuditThreshold(opts.threshold);
  const table = Array.isArray(input) ? fromRows(input as readonly AuditRow[]) : await fromSql(input as DuckDBConnection, opts.table ?? 'metric_results', false);
  return audit(table, metricMetaMap(opts.metrics), opts.threshold);
}

/**
 * Audits an exported results CSV (the columns of RESULT_COLUMNS, header first; a filtered
 * export is fine: filters by metric, dimension or grain keep whole relations or drop their
 * whole). Text cells the export neutralised against formula injection (a leading ' before
 * = + - @ tab CR) are restored first.
 */
export async function auditCsv(path: string, opts: Omit<AuditOptions, 'table'>): Promise<AuditReport> {
  checkAuditThreshold(opts.threshold);
  const db = await openDatabase(':memory:', { memoryLimit: '2GB' });
  try {
    await db.conn.run(`CREATE TEMP TABLE audit_csv AS SELECT * FROM read_csv(${quote(path)}, header = true, all_varchar = true)`);
    const table = await fromSql(db.conn, 'audit_csv', true);
    return audit(table, metricMetaMap(opts.metrics), opts.threshold);
  } catch (err) {
    throw new Error(`${path}: ${(err as Error).message}`);
  } finally {
    db.close();
  }
}

function audit(table: AuditTable, metas: Map<string, MetricMeta>, threshold: number): AuditReport {
  const shared = withSharedQuantities(table, metas);
  return new Auditor(shared.table, shared.metas, threshold, shared.members).run();
}

function checkAuditThreshold(threshold: number): void {
  if (!Number.isInteger(threshold) || threshold < 11) throw new Error(`audit threshold must be an integer >= 11, got ${threshold}`);
}

/** The export prefixes ' to text starting with = + - @ tab or CR (server/exports/neutralise.ts). */
export function unneutralise(s: string): string {
  return /^'[=+\-@\t\r]/.test(s) ? s.slice(1) : s;
}

function quote(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}

function ident(s: string): string {
  return `"${s.replaceAll('"', '""')}"`;
}

/**
 * Reads a results table, or a CSV loaded as text (csv = true: parse numbers and booleans,
 * restore neutralised text), dictionary-encoding the keys in DuckDB.
 */
async function fromSql(conn: DuckDBConnection, table: string, csv: boolean): Promise<AuditTable> {
  const present = (await conn.runAndReadAll(`SELECT column_name FROM information_schema.columns WHERE table_name = ${quote(table)}`))
    .getColumnsJson()[0] as string[];
  for (const c of ['metric_id', 'period_grain', 'period_start', 'dimension', 'group_value', 'numerator', 'denominator', 'value', 'suppressed']) {
    if (!present.includes(c)) throw new Error(`no ${c} column: not a results table`);
  }
  const text = (c: string) => (csv ? `CASE WHEN regexp_matches(${ident(c)}, '^''[=+\\-@\\t\\r]') THEN substr(${ident(c)}, 2) ELSE ${ident(c)} END` : `${ident(c)}::VARCHAR`);
  const num = (c: string) => (csv ? `CAST(NULLIF(trim(${ident(c)}), '') AS DOUBLE)` : `${ident(c)}::DOUBLE`);
  const bool = (c: string) => (csv ? `CAST(NULLIF(trim(${ident(c)}), '') AS BOOLEAN)` : ident(c));
  const mask = FIGURE_FIELDS.map((f, k) => (present.includes(f) ? `(CASE WHEN ${f === 'disparity_flag' ? bool(f) : num(f)} IS NOT NULL THEN ${2 ** k} ELSE 0 END)` : '0')).join(' + ');
  // keys never empty here: an empty key is a value ('') rather than a row dropped unseen
  await conn.run(`CREATE OR REPLACE TEMP TABLE audit_src AS SELECT
  coalesce(${text('metric_id')}, '') AS metric, coalesce(${text('period_grain')}, '') AS grain,
  coalesce(${csv ? text('period_start') : 'period_start::VARCHAR'}, '') AS start, coalesce(${text('dimension')}, '') AS dimension,
  coalesce(${text('group_value')}, '') AS "group",
  ${num('numerator')} AS numerator, ${num('denominator')} AS denominator, ${num('value')} AS value,
  coalesce(${bool('suppressed')}, false) AS suppressed,
  ${present.includes('reference_group') ? text('reference_group') : 'NULL::VARCHAR'} AS reference,
  (${mask})::UINTEGER AS figures
FROM ${ident(table)}`);
  try {
    const dict = {} as Record<KeyField, string[]>;
    for (const f of KEY_FIELDS) {
      const source = f === 'group' ? `SELECT "group" AS v FROM audit_src UNION SELECT reference FROM audit_src WHERE reference IS NOT NULL` : `SELECT DISTINCT ${ident(f)} AS v FROM audit_src`;
      await conn.run(`CREATE OR REPLACE TEMP TABLE audit_dict_${f} AS SELECT v, (row_number() OVER (ORDER BY v) - 1)::INTEGER AS id FROM (${source})`);
      dict[f] = ((await conn.runAndReadAll(`SELECT v FROM audit_dict_${f} ORDER BY id`)).getColumnsJson()[0] ?? []) as string[];
    }
    const reader = await conn.runAndReadAll(`SELECT ${KEY_FIELDS.map((f) => `d_${f}.id AS ${f}`).join(', ')},
  x.numerator, x.denominator, x.value, x.suppressed, coalesce(r.id, -1) AS reference, x.figures
FROM audit_src x ${KEY_FIELDS.map((f) => `JOIN audit_dict_${f} d_${f} ON d_${f}.v = x.${ident(f)}`).join(' ')}
LEFT JOIN audit_dict_group r ON r.v = x.reference
ORDER BY ${KEY_FIELDS.map((f) => `d_${f}.id`).join(', ')}`);
    const c = reader.getColumnsObjectJson() as Record<string, Array<number | boolean | null>>;
    const n = c.metric?.length ?? 0;
    const ints = (name: string) => Int32Array.from(c[name] ?? [], (v) => Number(v));
    const floats = (name: string) => Float64Array.from(c[name] ?? [], (v) => (v === null ? Number.NaN : Number(v)));
    return {
      n, dict,
      metric: ints('metric'), grain: ints('grain'), start: ints('start'), dimension: ints('dimension'), group: ints('group'),
      numerator: floats('numerator'), denominator: floats('denominator'), value: floats('value'),
      suppressed: Uint8Array.from(c.suppressed ?? [], (v) => (v === true ? 1 : 0)),
      reference: ints('reference'),
      figures: Uint32Array.from(c.figures ?? [], (v) => Number(v)),
    };
  } finally {
    for (const f of KEY_FIELDS) await conn.run(`DROP TABLE IF EXISTS audit_dict_${f}`);
    await conn.run('DROP TABLE IF EXISTS audit_src');
  }
}

function fromRows(data: readonly AuditRow[]): AuditTable {
  const n = data.length;
  const dicts = Object.fromEntries(KEY_FIELDS.map((f) => [f, new Map<string, number>()])) as Record<KeyField, Map<string, number>>;
  const intern = (f: KeyField, v: string) => {
    const d = dicts[f];
    let id = d.get(v);
    if (id === undefined) d.set(v, (id = d.size));
    return id;
  };
  const ids = (f: KeyField, get: (r: AuditRow) => string) => Int32Array.from(data, (r) => intern(f, get(r) ?? ''));
  const f = (v: number | null | undefined) => (v === null || v === undefined ? Number.NaN : v);
  const table: AuditTable = {
    n,
    dict: { metric: [], grain: [], start: [], dimension: [], group: [] },
    metric: ids('metric', (r) => r.metric_id),
    grain: ids('grain', (r) => r.period_grain),
    start: ids('start', (r) => r.period_start),
    dimension: ids('dimension', (r) => r.dimension),
    group: ids('group', (r) => r.group_value),
    numerator: Float64Array.from(data, (r) => f(r.numerator)),
    denominator: Float64Array.from(data, (r) => f(r.denominator)),
    value: Float64Array.from(data, (r) => f(r.value)),
    suppressed: Uint8Array.from(data, (r) => (r.suppressed === true ? 1 : 0)),
    reference: Int32Array.from(data, (r) => (r.reference_group === null || r.reference_group === undefined ? -1 : (dicts.group.get(r.reference_group) ?? -1))),
    figures: Uint32Array.from(data, (r) => FIGURE_FIELDS.reduce((m, k, bit) => (r[k] !== null && r[k] !== undefined ? m + 2 ** bit : m), 0)),
  };
  for (const k of KEY_FIELDS) table.dict[k] = [...dicts[k].keys()];
  return table;
}

/** Count-like figures of a row, by metric kind (NaN: not a count, or empty). */
function countFigures(meta: MetricMeta, num: number, den: number, value: number): [number, number, number] {
  switch (meta.kind) {
    case 'proportion':
    case 'duration': // numerator = events, denominator = cases, complement = censored
      return [num, den, den - num];
    case 'rate': // events (not dollars) and person-time
      return [meta.dollarNumerator ? Number.NaN : num, den, Number.NaN];
    case 'count':
      return [Number.isNaN(num) ? value : num, Number.NaN, Number.NaN];
    case 'mean': // number of cases
      return [Number.NaN, den, Number.NaN];
    case 'ratio': // the demand count; capacity-months are not a count
      return [num, Number.NaN, Number.NaN];
  }
}

/** Numeric row keys and lookups by text, for one table. */
class Keys {
  private readonly radix: number[];
  private readonly byText: Record<KeyField, Map<string, number>>;
  readonly index = new Map<number, number>();

  constructor(private readonly t: AuditTable) {
    this.radix = KEY_FIELDS.map((f) => Math.max(1, t.dict[f].length));
    this.byText = Object.fromEntries(KEY_FIELDS.map((f) => [f, new Map(t.dict[f].map((v, i) => [v, i]))])) as Record<KeyField, Map<string, number>>;
    for (let i = 0; i < t.n; i++) this.index.set(this.of(t.metric[i] as number, t.grain[i] as number, t.start[i] as number, t.dimension[i] as number, t.group[i] as number), i);
  }

  of(metric: number, grain: number, start: number, dimension: number, group: number): number {
    const [, G, S, D, V] = this.radix as [number, number, number, number, number];
    return (((metric * G + grain) * S + start) * D + dimension) * V + group;
  }

  /** the row with these ids; -1 ids (a text not in the table) find nothing */
  row(metric: number, grain: number, start: number, dimension: number, group: number): number | undefined {
    if (metric < 0 || grain < 0 || start < 0 || dimension < 0 || group < 0) return undefined;
    return this.index.get(this.of(metric, grain, start, dimension, group));
  }

  id(field: KeyField, text: string): number {
    return this.byText[field].get(text) ?? -1;
  }
}

/** A reader takes two metrics' counts for one quantity when they agree on this many non-zero shown rows (and never disagree). */
export const SHARED_MIN_ROWS = 20;

/**
 * Adds one row per shared quantity and key: shown (with the value) where any member metric
 * shows it, its relations the union of the members'.
 */
function withSharedQuantities(t: AuditTable, metas: Map<string, MetricMeta>): {
  table: AuditTable;
  metas: Map<string, MetricMeta>;
  members: Map<number, Array<[number, number]>>;
} {
  const none = { table: t, metas, members: new Map<number, Array<[number, number]>>() };
  const metaOf = t.dict.metric.map((m) => metas.get(m));
  const slotValue = (i: number, slot: number): number => {
    const meta = metaOf[t.metric[i] as number];
    if (!meta || t.suppressed[i]) return Number.NaN;
    return countFigures(meta, t.numerator[i] as number, t.denominator[i] as number, t.value[i] as number)[slot] as number;
  };
  const keys = new Keys(t);
  const rowsOf: number[][] = t.dict.metric.map(() => []);
  for (let i = 0; i < t.n; i++) (rowsOf[t.metric[i] as number] as number[]).push(i);
  const same = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a));
  /** whether every common shown row agrees, and how many common rows are non-zero */
  const compare = (sa: number, mb: number, sb: number, rowsA: readonly number[]): { common: number; nonzero: number } | null => {
    let common = 0;
    let nonzero = 0;
    for (const i of rowsA) {
      const a = slotValue(i, sa);
      if (Number.isNaN(a)) continue;
      const j = keys.row(mb, t.grain[i] as number, t.start[i] as number, t.dimension[i] as number, t.group[i] as number);
      if (j === undefined) continue;
      const b = slotValue(j, sb);
      if (Number.isNaN(b)) continue;
      if (!same(a, b)) return null;
      common++;
      if (a !== 0) nonzero++;
    }
    return { common, nonzero };
  };
  // candidates from the `all` rows, confirmed on every row
  const allDim = keys.id('dimension', 'all');
  const metrics = t.dict.metric.map((_, m) => m).filter((m) => metaOf[m]);
  const pairs: Array<[number, number, number, number]> = [];
  for (const [x, ma] of metrics.entries()) {
    const rowsA = rowsOf[ma] as number[];
    const allA = rowsA.filter((i) => t.dimension[i] === allDim);
    for (const mb of metrics.slice(x + 1)) {
      for (const sa of [0, 1]) {
        for (const sb of [0, 1]) {
          const first = compare(sa, mb, sb, allA);
          if (first === null || first.common === 0) continue;
          const full = compare(sa, mb, sb, rowsA);
          if (full !== null && full.nonzero >= SHARED_MIN_ROWS) pairs.push([ma, sa, mb, sb]);
        }
      }
    }
  }
  if (!pairs.length) return none;
  // a = b and b = c make one quantity
  const name = (m: number, slot: number) => `${t.dict.metric[m]}.${slot ? 'denominator' : 'numerator'}`;
  const parent = new Map<string, string>();
  const find = (x: string): string => (parent.get(x) === x ? x : find(parent.get(x) as string));
  const nodeOf = new Map<string, [number, number]>();
  for (const [ma, sa, mb, sb] of pairs) {
    for (const [m, s] of [[ma, sa], [mb, sb]] as const) {
      const k = name(m, s);
      nodeOf.set(k, [m, s]);
      if (!parent.has(k)) parent.set(k, k);
    }
    const ra = find(name(ma, sa));
    const rb = find(name(mb, sb));
    if (ra !== rb) parent.set(ra < rb ? rb : ra, ra < rb ? ra : rb);
  }
  const classes = new Map<string, string[]>();
  for (const node of [...parent.keys()].sort()) {
    const list = classes.get(find(node));
    if (list) list.push(node);
    else classes.set(find(node), [node]);
  }

  const dict = { ...t.dict, metric: [...t.dict.metric] };
  const grow = { metric: [] as number[], grain: [] as number[], start: [] as number[], dimension: [] as number[], group: [] as number[], denominator: [] as number[], suppressed: [] as number[] };
  const allMetas = new Map(metas);
  const members = new Map<number, Array<[number, number]>>();
  const [, G, S, D, V] = KEY_FIELDS.map((f) => Math.max(1, t.dict[f].length)) as [number, number, number, number, number];
  for (const nodes of classes.values()) {
    const id = `~shared(${nodes.join('=')})`;
    const metricId = dict.metric.length;
    dict.metric.push(id);
    const memberMetas = nodes.map((k) => metaOf[(nodeOf.get(k) as [number, number])[0]] as MetricMeta);
    allMetas.set(id, {
      id, kind: 'mean', direction: 'lower_better', dollarNumerator: false,
      additiveOverTime: (d) => memberMetas.some((m) => m.additiveOverTime(d)),
      groupsSumToAll: (d) => memberMetas.some((m) => m.groupsSumToAll(d)),
    });
    const rowAt = new Map<number, number>();
    for (const node of nodes) {
      const [m, slot] = nodeOf.get(node) as [number, number];
      for (const i of rowsOf[m] as number[]) {
        const key = (((t.grain[i] as number) * S + (t.start[i] as number)) * D + (t.dimension[i] as number)) * V + (t.group[i] as number);
        let s = rowAt.get(key);
        if (s === undefined) {
          s = t.n + grow.metric.length;
          rowAt.set(key, s);
          grow.metric.push(metricId);
          grow.grain.push(t.grain[i] as number);
          grow.start.push(t.start[i] as number);
          grow.dimension.push(t.dimension[i] as number);
          grow.group.push(t.group[i] as number);
          grow.denominator.push(Number.NaN);
          grow.suppressed.push(1);
        }
        const v = slotValue(i, slot);
        if (!Number.isNaN(v)) {
          grow.denominator[s - t.n] = v;
          grow.suppressed[s - t.n] = 0;
        }
        const list = members.get(i);
        if (list) list.push([s, slot]);
        else members.set(i, [[s, slot]]);
      }
    }
  }
  void G;
  const extra = grow.metric.length;
  const cat = <A extends Int32Array | Float64Array | Uint8Array | Uint32Array>(a: A, more: ArrayLike<number>, make: (n: number) => A): A => {
    const out = make(a.length + extra);
    out.set(a);
    for (let k = 0; k < extra; k++) out[a.length + k] = more[k] ?? 0;
    return out;
  };
  const nan = new Array<number>(extra).fill(Number.NaN);
  const table: AuditTable = {
    n: t.n + extra,
    dict,
    metric: cat(t.metric, grow.metric, (n) => new Int32Array(n)),
    grain: cat(t.grain, grow.grain, (n) => new Int32Array(n)),
    start: cat(t.start, grow.start, (n) => new Int32Array(n)),
    dimension: cat(t.dimension, grow.dimension, (n) => new Int32Array(n)),
    group: cat(t.group, grow.group, (n) => new Int32Array(n)),
    numerator: cat(t.numerator, nan, (n) => new Float64Array(n)),
    denominator: cat(t.denominator, grow.denominator, (n) => new Float64Array(n)),
    value: cat(t.value, nan, (n) => new Float64Array(n)),
    suppressed: cat(t.suppressed, grow.suppressed, (n) => new Uint8Array(n)),
    reference: cat(t.reference, new Array<number>(extra).fill(-1), (n) => new Int32Array(n)),
    figures: cat(t.figures, new Array<number>(extra).fill(0), (n) => new Uint32Array(n)),
  };
  return { table, metas: allMetas, members };
}

const KIND_ONE_WAY = 0;
const KIND_TWO_WAY = 1;
const KIND_TIME = 2;
const KIND_NAMES = ['one_way', 'two_way', 'time'] as const;

class Auditor {
  private readonly violations: AuditViolation[] = [];
  /** count-like figures: numerator, denominator, complement (NaN: not a count or empty) */
  private readonly q: [Float64Array, Float64Array, Float64Array];
  private readonly keys: Keys;
  private readonly metaOf: Array<MetricMeta | undefined>;
  /** relations as CSR: whole, kind, parts[start[r]..start[r+1]) */
  private relWhole: Int32Array = new Int32Array(0);
  private relKind: Uint8Array = new Uint8Array(0);
  private relStart: Int32Array = new Int32Array(1);
  private relParts: Int32Array = new Int32Array(0);

  constructor(
    private readonly t: AuditTable,
    metas: Map<string, MetricMeta>,
    private readonly threshold: number,
    /** real row -> [shared row, slot (0 numerator, 1 denominator)] */
    private readonly sharedOf: Map<number, Array<[number, number]>> = new Map(),
  ) {
    this.metaOf = t.dict.metric.map((m) => metas.get(m));
    this.keys = new Keys(t);
    this.q = [new Float64Array(t.n), new Float64Array(t.n), new Float64Array(t.n)];
    for (let i = 0; i < t.n; i++) {
      const meta = this.metaOf[t.metric[i] as number];
      const [a, b, c] = meta ? countFigures(meta, t.numerator[i] as number, t.denominator[i] as number, t.value[i] as number) : [NaN, NaN, NaN];
      this.q[0][i] = a;
      this.q[1][i] = b;
      this.q[2][i] = c;
    }
  }

  run(): AuditReport {
    this.checkRows();
    this.buildRelations();
    this.checkRelations();
    this.checkDerivations();
    return { ok: this.violations.length === 0, rows: this.t.n, relations: this.relWhole.length, violations: this.violations };
  }

  private text(field: KeyField, i: number): string {
    return this.t.dict[field][this.t[field][i] as number] as string;
  }

  private report(relation: AuditRelation, i: number, message: string): void {
    this.violations.push({
      relation, metric_id: this.text('metric', i), period_grain: this.text('grain', i), period_start: this.text('start', i),
      dimension: this.text('dimension', i), group_value: this.text('group', i), message,
    });
  }

  private shown(i: number): boolean {
    return this.t.suppressed[i] === 0;
  }

  /** A count in 1..threshold-1 (person-time: above 0, below threshold), with a tolerance for DOUBLE sums. */
  private small(v: number, scale = v): boolean {
    const tol = 1e-6 * Math.max(1, Math.abs(scale));
    return v > tol && v < this.threshold - tol;
  }

  private checkRows(): void {
    const t = this.t;
    const reported = new Set<number>();
    const statBits = STAT_FIELDS.reduce((m, f) => m + 2 ** FIGURE_FIELDS.indexOf(f), 0);
    for (let i = 0; i < t.n; i++) {
      const metric = t.metric[i] as number;
      if (!this.metaOf[metric]) {
        if (!reported.has(metric)) this.report('catalog', i, `metric ${this.text('metric', i)} is not in the catalog: its figures cannot be audited`);
        reported.add(metric);
        continue;
      }
      const figures = t.figures[i] as number;
      if (!this.shown(i)) {
        if (figures) this.report('withheld_figures', i, `suppressed row shows ${FIGURE_FIELDS.filter((_, k) => figures & (2 ** k)).join(', ')}`);
        continue;
      }
      for (let k = 0; k < 3; k++) {
        const v = this.q[k]![i] as number;
        if (v > 0 && v < this.threshold) this.report('primary', i, `shown ${QUANTITY_NAMES[k]} ${v} is in 1..${this.threshold - 1}`);
      }
      const ref = t.reference[i] as number;
      if (ref >= 0 && ref !== t.group[i] && (figures & statBits)) {
        const j = this.keys.row(metric, t.grain[i] as number, t.start[i] as number, t.dimension[i] as number, ref);
        if (j !== undefined && !this.shown(j)) this.report('reference', i, `statistics shown against the suppressed reference group ${t.dict.group[ref]}`);
      }
    }
  }

  private buildRelations(): void {
    const t = this.t;
    const keys = this.keys;
    const D = Math.max(1, t.dict.dimension.length);
    const V = Math.max(1, t.dict.group.length);
    const grains = { quarter: keys.id('grain', 'quarter'), year: keys.id('grain', 'year'), all: keys.id('grain', 'all'), month: keys.id('grain', 'month') };
    const allDim = keys.id('dimension', 'all');
    const allGroup = keys.id('group', 'all');
    // per distinct period_start: its quarter's and year's start
    const quarterOf = t.dict.start.map((s) => {
      const month = Number(s.slice(5, 7));
      return keys.id('start', `${s.slice(0, 4)}-${String(month - ((month - 1) % 3)).padStart(2, '0')}-01`);
    });
    const yearOf = t.dict.start.map((s) => keys.id('start', `${s.slice(0, 4)}-01-01`));
    // per distinct dimension: its one-way parts
    const parts = t.dict.dimension.map((d) => (d === 'all' ? [] : d.split('*').map((p) => ({ text: p, id: keys.id('dimension', p) }))));
    // per distinct group value: the two halves of a two-way value (split at the first '*')
    const halves = t.dict.group.map((g) => {
      const star = g.indexOf('*');
      return star < 0 ? null : [keys.id('group', g.slice(0, star)), keys.id('group', g.slice(star + 1))] as const;
    });
    const sums = new Map<number, boolean>();
    const sumsTo = (metric: number, text: string, id: number) => {
      if (id < 0) return (this.metaOf[metric] as MetricMeta).groupsSumToAll(text);
      const k = metric * D + id;
      let v = sums.get(k);
      if (v === undefined) sums.set(k, (v = (this.metaOf[metric] as MetricMeta).groupsSumToAll(text)));
      return v;
    };
    const additive = new Map<number, boolean>();
    const span = new Map<number, number>();
    for (let i = 0; i < t.n; i++) {
      if (t.grain[i] === grains.all) span.set(((t.metric[i] as number) * D + (t.dimension[i] as number)) * V + (t.group[i] as number), i);
    }
    const byKey = new Map<number, number>();
    const wholes: number[] = [];
    const kinds: number[] = [];
    const linkRel: number[] = [];
    const linkPart: number[] = [];
    const TAGS = 3 * D + 1;
    const add = (whole: number | undefined, tag: number, kind: number, part: number) => {
      if (whole === undefined) return; // the whole is not published: nothing to difference
      const k = whole * TAGS + tag;
      let rel = byKey.get(k);
      if (rel === undefined) {
        rel = wholes.length;
        byKey.set(k, rel);
        wholes.push(whole);
        kinds.push(kind);
      }
      linkRel.push(rel);
      linkPart.push(part);
    };
    for (let i = 0; i < t.n; i++) {
      const metric = t.metric[i] as number;
      const meta = this.metaOf[metric];
      if (!meta) continue;
      const grain = t.grain[i] as number;
      const start = t.start[i] as number;
      const dimension = t.dimension[i] as number;
      const group = t.group[i] as number;
      const dims = parts[dimension] as Array<{ text: string; id: number }>;
      if (dims.length === 1 && sumsTo(metric, (dims[0] as { text: string }).text, dimension)) {
        add(keys.row(metric, grain, start, allDim, allGroup), dimension, KIND_ONE_WAY, i);
      }
      const half = halves[group];
      if (dims.length === 2 && half) {
        const [a, b] = dims as [{ text: string; id: number }, { text: string; id: number }];
        if (sumsTo(metric, b.text, b.id)) add(keys.row(metric, grain, start, a.id, half[0]), D + dimension, KIND_TWO_WAY, i);
        if (sumsTo(metric, a.text, a.id)) add(keys.row(metric, grain, start, b.id, half[1]), 2 * D + dimension, KIND_TWO_WAY, i);
      }
      const ak = metric * D + dimension;
      let isAdditive = additive.get(ak);
      if (isAdditive === undefined) additive.set(ak, (isAdditive = meta.additiveOverTime(t.dict.dimension[dimension] as string)));
      if (isAdditive) {
        if (grain === grains.month) add(keys.row(metric, grains.quarter, quarterOf[start] as number, dimension, group), 3 * D, KIND_TIME, i);
        else if (grain === grains.quarter) add(keys.row(metric, grains.year, yearOf[start] as number, dimension, group), 3 * D, KIND_TIME, i);
        else if (grain === grains.year) add(span.get((metric * D + dimension) * V + group), 3 * D, KIND_TIME, i);
      }
    }
    const R = wholes.length;
    const startAt = new Int32Array(R + 1);
    for (const r of linkRel) startAt[r + 1]! += 1;
    for (let r = 0; r < R; r++) startAt[r + 1]! += startAt[r] as number;
    const fill = startAt.slice(0, R);
    const partRows = new Int32Array(linkPart.length);
    linkRel.forEach((r, k) => {
      partRows[fill[r]!++] = linkPart[k] as number;
    });
    this.relWhole = Int32Array.from(wholes);
    this.relKind = Uint8Array.from(kinds);
    this.relStart = startAt;
    this.relParts = partRows;
  }
  /** The spec's rule: whole minus shown parts, for every relation whose whole is shown. */
  private checkRelations(): void {
    for (let r = 0; r < this.relWhole.length; r++) {
      const w = this.relWhole[r] as number;
      if (!this.shown(w)) continue;
      for (let k = 0; k < 3; k++) {
        const q = this.q[k] as Float64Array;
        const whole = q[w] as number;
        if (Number.isNaN(whole)) continue;
        let sum = 0;
        for (let j = this.relStart[r] as number; j < (this.relStart[r + 1] as number); j++) {
          const p = this.relParts[j] as number;
          const v = q[p] as number;
          if (this.shown(p) && !Number.isNaN(v)) sum += v;
        }
        if (this.small(whole - sum, whole)) {
          this.report(KIND_NAMES[this.relKind[r] as number] as AuditRelation, w,
            `${QUANTITY_NAMES[k]}: whole ${whole} minus the shown parts = ${round(whole - sum)} withheld, in 1..${this.threshold - 1} (${(this.relStart[r + 1] as number) - (this.relStart[r] as number)} parts)`);
        }
      }
    }
  }

  /** Substitutes relations into each other until nothing more becomes known. */
  private checkDerivations(): void {
    const n = this.t.n;
    const R = this.relWhole.length;
    const known = Uint8Array.from(this.t.suppressed, (s) => (s ? 0 : 1));
    const derived = new Uint8Array(n);
    const vals = this.q.map((q) => Float64Array.from(q, (v, i) => (known[i] ? v : Number.NaN))) as Float64Array[];
    // relations of each row (as whole or part), CSR
    const mStart = new Int32Array(n + 1);
    for (let r = 0; r < R; r++) {
      mStart[(this.relWhole[r] as number) + 1]! += 1;
      for (let j = this.relStart[r] as number; j < (this.relStart[r + 1] as number); j++) mStart[(this.relParts[j] as number) + 1]! += 1;
    }
    for (let i = 0; i < n; i++) mStart[i + 1]! += mStart[i] as number;
    const mFill = mStart.slice(0, n);
    const member = new Int32Array(mStart[n] as number);
    for (let r = 0; r < R; r++) {
      member[mFill[this.relWhole[r] as number]!++] = r;
      for (let j = this.relStart[r] as number; j < (this.relStart[r + 1] as number); j++) member[mFill[this.relParts[j] as number]!++] = r;
    }
    const queue: number[] = [];
    for (let r = 0; r < R; r++) queue.push(r);
    const queued = new Uint8Array(R).fill(1);
    let head = 0;
    const learn = (row: number, v: number[], how: string) => {
      known[row] = 1;
      derived[row] = 1;
      v.forEach((x, k) => {
        (vals[k] as Float64Array)[row] = x;
        if (this.small(x)) this.report('derived', row, `suppressed, but its ${QUANTITY_NAMES[k]} = ${round(x)} can be derived (${how})`);
      });
      for (let j = mStart[row] as number; j < (mStart[row + 1] as number); j++) {
        const r = member[j] as number;
        if (!queued[r]) {
          queued[r] = 1;
          queue.push(r);
        }
      }
      // a derived row gives the counts it shares with other metrics
      for (const [s, slot] of this.sharedOf.get(row) ?? []) {
        const x = v[slot] as number;
        if (!known[s] && !Number.isNaN(x)) learn(s, [Number.NaN, x, Number.NaN], `${this.describe(row)} of ${this.text('metric', row)}, derived`);
      }
    };
    while (head < queue.length) {
      const r = queue[head++] as number;
      queued[r] = 0;
      const w = this.relWhole[r] as number;
      const from = this.relStart[r] as number;
      const to = this.relStart[r + 1] as number;
      let unknownPart = -1;
      let unknownCount = 0;
      for (let j = from; j < to; j++) {
        if (!known[this.relParts[j] as number]) {
          unknownCount++;
          unknownPart = this.relParts[j] as number;
        }
      }
      const kind = (KIND_NAMES[this.relKind[r] as number] as string).replace('_', '-');
      if (known[w] && unknownCount === 1) {
        const v = vals.map((q) => {
          let x = q[w] as number;
          for (let j = from; j < to; j++) {
            const p = this.relParts[j] as number;
            if (p !== unknownPart && !Number.isNaN(q[p] as number)) x -= q[p] as number;
          }
          return x;
        });
        learn(unknownPart, v, `${this.describe(w)} minus its other ${kind} parts`);
      } else if (!known[w] && unknownCount === 0 && to > from) {
        const v = vals.map((q) => {
          let x = 0;
          let any = false;
          for (let j = from; j < to; j++) {
            const y = q[this.relParts[j] as number] as number;
            if (!Number.isNaN(y)) {
              x += y;
              any = true;
            }
          }
          return any ? x : Number.NaN;
        });
        learn(w, v, `the sum of its ${to - from} ${kind} parts`);
      }
    }
    // Relations touched by a derivation, re-checked with everything that became known.
    for (let r = 0; r < R; r++) {
      const w = this.relWhole[r] as number;
      if (!known[w]) continue;
      const from = this.relStart[r] as number;
      const to = this.relStart[r + 1] as number;
      let touched = derived[w] === 1;
      for (let j = from; j < to && !touched; j++) touched = derived[this.relParts[j] as number] === 1;
      if (!touched) continue;
      vals.forEach((q, k) => {
        const whole = q[w] as number;
        if (Number.isNaN(whole)) return;
        let sum = 0;
        for (let j = from; j < to; j++) {
          const p = this.relParts[j] as number;
          if (known[p] && !Number.isNaN(q[p] as number)) sum += q[p] as number;
        }
        if (this.small(whole - sum, whole)) {
          this.report('derived', w, `${QUANTITY_NAMES[k]}: with derived rows substituted, ${round(whole - sum)} stays withheld in a ${KIND_NAMES[this.relKind[r] as number]} relation, in 1..${this.threshold - 1}`);
        }
      });
    }
  }

  private describe(i: number): string {
    return `${this.text('grain', i)} ${this.text('start', i)} ${this.text('dimension', i)}=${this.text('group', i)}`;
  }
}

function round(v: number): number {
  return Math.round(v * 1e6) / 1e6;
}
