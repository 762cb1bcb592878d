// Evaluates the data-quality gates (checks.ts) in SQL over the run's warehouse, after the
// load and before the metrics.
import type { DuckDBConnection } from '@duckdb/node-api';
import { rows, sqlIdent as id, sqlString as str } from '../../models/duckdb.ts';
import { ENTITIES } from '../../models/contracts/index.ts';
import type { FileReport } from '../ingest/loadFile.ts';
import type { Check } from './checks.ts';

export type CheckStatus = 'pass' | 'warn' | 'block' | 'skip';

export interface CheckResult {
  id: string;
  entity: string;
  kind: Check['kind'];
  severity: Check['severity'];
  status: CheckStatus;
  /** Rate (0..1), duplicate-key count (unique) or fraction lost (volume_change); null when skipped. */
  observed: number | null;
  threshold: number;
  /** Rows that break the rule (or, for volume, rows lost). */
  violations: number | null;
  /** Rows looked at. */
  rows: number | null;
  message: string;
}

/** What the previous generation held, captured from the copied warehouse before this run loads anything. */
export interface Baseline {
  tableRows: Record<string, number>;
  /** Rows read by the most recent run that loaded each entity. */
  incoming: Record<string, number>;
}

const table = (entity: string) => `stg_${entity}`;

export async function captureBaseline(conn: DuckDBConnection): Promise<Baseline> {
  const tableRows: Record<string, number> = {};
  for (const e of ENTITIES) {
    const r = await rows<{ n: number }>(conn, `SELECT count(*) AS n FROM ${table(e.name)}`);
    tableRows[e.name] = r[0]?.n ?? 0;
  }
  const incoming: Record<string, number> = {};
  const last = await rows<{ entity: string; n: number }>(conn, `WITH l AS (SELECT entity, max(run_id) AS run_id FROM load_ledger WHERE status = 'loaded' AND entity IS NOT NULL GROUP BY entity)
    SELECT g.entity, sum(g.rows_read)::BIGINT AS n FROM load_ledger g JOIN l USING (entity, run_id) WHERE g.status = 'loaded' GROUP BY g.entity`);
  for (const r of last) incoming[r.entity] = r.n;
  return { tableRows, incoming };
}

const pct = (x: number) => `${(x * 100).toFixed(x < 0.01 && x > 0 ? 2 : 1)}%`;
const fmt = (n: number) => n.toLocaleString('en-US');
const lit = (v: string | number) => (typeof v === 'number' ? String(v) : str(v));

export interface EvaluateInput {
  /** Null on a first run or a full refresh: volume checks are skipped. */
  baseline: Baseline | null;
  files: FileReport[];
}

export async function evaluateChecks(conn: DuckDBConnection, checks: Check[], input: EvaluateInput): Promise<CheckResult[]> {
  const out: CheckResult[] = [];
  for (const c of checks) {
    try {
      out.push(await evaluate(conn, c, input));
    } catch (err) {
      // A check that cannot be evaluated (a misnamed column in the config) fails at its own severity.
      out.push(result(c, c.severity, null, null, null, `${c.id}: could not be evaluated: ${(err as Error).message.split('\n')[0]}`));
    }
  }
  return out;
}

function result(c: Check, status: CheckStatus, observed: number | null, violations: number | null, n: number | null, message: string): CheckResult {
  return { id: c.id, entity: c.entity, kind: c.kind, severity: c.severity, status, observed, threshold: c.threshold, violations, rows: n, message };
}

/** Judge a rate-like observation. */
function judge(c: Check, observed: number, violations: number, n: number, what: string): CheckResult {
  if (n < c.minRows) return result(c, 'skip', null, violations, n, `${c.id}: skipped: ${fmt(n)} rows, fewer than ${fmt(c.minRows)}`);
  const failed = observed > c.threshold;
  const shown = c.kind === 'unique' ? fmt(observed) : pct(observed);
  const limit = c.kind === 'unique' ? fmt(c.threshold) : pct(c.threshold);
  const message = `${c.id}: ${what} (${shown}; ${failed ? `${c.severity} above` : 'limit'} ${limit})`;
  return result(c, failed ? c.severity : 'pass', observed, violations, n, message);
}

async function countBad(conn: DuckDBConnection, from: string, bad: string, where = 'TRUE'): Promise<{ n: number; bad: number }> {
  const r = await rows<{ n: number; bad: number }>(conn, `SELECT count(*) AS n, count(*) FILTER (WHERE ${bad}) AS bad FROM ${from} WHERE ${where}`);
  return { n: r[0]?.n ?? 0, bad: r[0]?.bad ?? 0 };
}

async function evaluate(conn: DuckDBConnection, c: Check, input: EvaluateInput): Promise<CheckResult> {
  const t = table(c.entity);
  switch (c.kind) {
    case 'unique': {
      const cols = c.columns.map(id).join(', ');
      const r = await rows<{ n: number; dup: number; extra: number }>(conn, `SELECT (SELECT count(*) FROM ${t}) AS n, count(*) AS dup, coalesce(sum(k - 1), 0)::BIGINT AS extra
        FROM (SELECT count(*) AS k FROM ${t} GROUP BY ${cols} HAVING count(*) > 1)`);
      const { n = 0, dup = 0 } = r[0] ?? {};
      return judge(c, dup, dup, n, `${fmt(dup)} (${c.columns.join(', ')}) key${dup === 1 ? '' : 's'} on more than one row of ${fmt(n)}`);
    }
    case 'not_null': {
      const { n, bad } = await countBad(conn, t, `${id(c.column)} IS NULL`);
      return judge(c, n ? bad / n : 0, bad, n, `${fmt(bad)} of ${fmt(n)} rows have no ${c.column}`);
    }
    case 'relationship': {
      const rt = table(c.references.entity);
      const { n, bad } = await countBad(conn, `${t} x LEFT JOIN (SELECT DISTINCT ${id(c.references.column)} AS k FROM ${rt}) r ON x.${id(c.column)} = r.k`,
        'r.k IS NULL', `x.${id(c.column)} IS NOT NULL`);
      return judge(c, n ? bad / n : 0, bad, n, `${fmt(bad)} of ${fmt(n)} ${c.column} values have no ${c.references.entity}.${c.references.column}`);
    }
    case 'accepted_values': {
      const { n, bad } = await countBad(conn, t, `${id(c.column)} NOT IN (${c.values.map(str).join(', ')})`, `${id(c.column)} IS NOT NULL`);
      return judge(c, n ? bad / n : 0, bad, n, `${fmt(bad)} of ${fmt(n)} ${c.column} values are not one of ${c.values.join(', ')}`);
    }
    case 'range': {
      const conds = [c.min !== undefined ? `${id(c.column)} < ${lit(c.min)}` : null, c.max !== undefined ? `${id(c.column)} > ${lit(c.max)}` : null].filter(Boolean);
      const { n, bad } = await countBad(conn, t, conds.length ? conds.join(' OR ') : 'FALSE', `${id(c.column)} IS NOT NULL`);
      return judge(c, n ? bad / n : 0, bad, n, `${fmt(bad)} of ${fmt(n)} ${c.column} values outside ${c.min ?? '-∞'}..${c.max ?? '∞'}`);
    }
    case 'cross_field': {
      const { n, bad } = await countBad(conn, t, `NOT coalesce((${c.condition}), TRUE)`);
      return judge(c, n ? bad / n : 0, bad, n, `${fmt(bad)} of ${fmt(n)} rows break "${c.condition}"`);
    }
    case 'volume_change': {
      if (!input.baseline) return result(c, 'skip', null, null, null, `${c.id}: skipped: no previous run to compare with (first run or full refresh)`);
      if (c.measure === 'table') {
        const before = input.baseline.tableRows[c.entity] ?? 0;
        const now = (await rows<{ n: number }>(conn, `SELECT count(*) AS n FROM ${t}`))[0]?.n ?? 0;
        if (before < c.minRows) return result(c, 'skip', null, null, before, `${c.id}: skipped: ${fmt(before)} rows before, fewer than ${fmt(c.minRows)}`);
        const drop = Math.max(0, (before - now) / before);
        return judge(c, drop, Math.max(0, before - now), before, `${c.entity} rows went from ${fmt(before)} to ${fmt(now)}`);
      }
      const files = input.files.filter((f) => f.entity === c.entity && !f.rejected);
      if (files.length === 0) return result(c, 'skip', null, null, null, `${c.id}: skipped: no ${c.entity} file in this run`);
      const before = input.baseline.incoming[c.entity] ?? 0;
      const now = files.reduce((a, f) => a + f.rows_read, 0);
      if (before < c.minRows) return result(c, 'skip', null, null, before, `${c.id}: skipped: the last ${c.entity} load read ${fmt(before)} rows, fewer than ${fmt(c.minRows)}`);
      const drop = Math.max(0, (before - now) / before);
      return judge(c, drop, Math.max(0, before - now), before, `${c.entity} files read ${fmt(now)} rows, the last load ${fmt(before)}`);
    }
    case 'overlapping_spans': {
      const [person, from, through] = [id(c.person), id(c.from), id(c.through)];
      const { n, bad } = await countBad(conn, `${t} a`, `EXISTS (SELECT 1 FROM ${t} b WHERE b.${person} = a.${person} AND b.rowid <> a.rowid
        AND b.${from} <= coalesce(a.${through}, DATE '9999-12-31') AND a.${from} <= coalesce(b.${through}, DATE '9999-12-31'))`);
      return judge(c, n ? bad / n : 0, bad, n, `${fmt(bad)} of ${fmt(n)} spans overlap another span of the same person: merged for person-time, each day counted once`);
    }
    case 'quarantine_rate': {
      const files = input.files.filter((f) => f.entity === c.entity && !f.rejected && f.rows_read >= Math.max(1, c.minRows));
      if (files.length === 0) return result(c, 'skip', null, null, null, `${c.id}: skipped: no ${c.entity} file of ${fmt(c.minRows)}+ rows in this run`);
      const worst = files.map((f) => ({ f, rate: f.rows_quarantined / f.rows_read })).sort((a, b) => b.rate - a.rate)[0]!;
      return judge(c, worst.rate, worst.f.rows_quarantined, worst.f.rows_read, `${worst.f.file}: ${fmt(worst.f.rows_quarantined)} of ${fmt(worst.f.rows_read)} rows quarantined`);
    }
  }
}

export const blocking = (results: CheckResult[]) => results.filter((r) => r.status === 'block');

/** One line for the run summary: what blocked the run, exactly. */
export function blockedMessage(results: CheckResult[]): string {
  const b = blocking(results);
  return `blocked by ${b.length} data-quality gate${b.length === 1 ? '' : 's'}: ${b.map((r) => r.message).join('; ')}`;
}

export function qualityCounts(results: CheckResult[]) {
  const count = (s: CheckStatus) => results.filter((r) => r.status === s).length;
  return { pass: count('pass'), warn: count('warn'), block: count('block'), skip: count('skip') };
}
