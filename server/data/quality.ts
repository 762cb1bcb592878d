// Data quality and runs (admins and evaluators only; never exported): run history from
// the control state's runs.jsonl (with each run's quality-gate counts), per-file load
// counts with top quarantine reasons, the published run's quality-gate results, and each
// entity's freshness against the as-of date.
import { open, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { storePaths } from '../../pipelines/store.ts';
import type { Generation } from '../generation.ts';

export interface RunFile {
  file: string;
  entity: string;
  rows_read: number;
  rows_loaded: number;
  rows_quarantined: number;
  rejected: boolean;
  message: string | null;
  top_reasons: Array<{ rule: string; column: string | null; count: number }>;
}

export interface RunRecord {
  run_id: string | null;
  status: string;
  started_at: string | null;
  finished_at: string | null;
  as_of: string | null;
  seconds: number | null;
  files: number;
  files_rejected: number;
  rows_read: number;
  rows_loaded: number;
  rows_quarantined: number;
  metrics_rows: number | null;
  message: string | null;
  file_details: RunFile[];
  /** Quality-gate results by status (null: a run recorded before the gates, or one that stopped before them). */
  quality_counts: { pass: number; warn: number; block: number; skip: number } | null;
  /** The messages of the gates that warned or blocked. */
  quality_findings: Array<{ status: string; message: string }>;
}

/** One quality gate's result, as the pipeline published it (pipelines/quality). */
export interface QualityCheck {
  check_id: string;
  entity: string;
  kind: string;
  severity: string;
  status: string;
  observed: number | null;
  threshold: number;
  violations: number | null;
  rows_checked: number | null;
  message: string;
}

const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

function topReasons(reasons: unknown): RunFile['top_reasons'] {
  const list = typeof reasons === 'string' ? (JSON.parse(reasons) as unknown) : reasons;
  if (!Array.isArray(list)) return [];
  return list
    .map((r) => ({ rule: String((r as Record<string, unknown>).rule ?? ''), column: ((r as Record<string, unknown>).column as string | null) ?? null, count: num((r as Record<string, unknown>).count) }))
    .sort((a, b) => b.count - a.count)
    .slice(0, 3);
}

function fileOf(f: Record<string, unknown>): RunFile {
  return {
    file: String(f.file ?? ''),
    entity: String(f.entity ?? ''),
    rows_read: num(f.rows_read),
    rows_loaded: num(f.rows_loaded),
    rows_quarantined: num(f.rows_quarantined),
    rejected: f.rejected === true,
    message: (f.message as string | null) ?? null,
    top_reasons: topReasons(f.reasons),
  };
}

function qualityCountsOf(v: unknown): RunRecord['quality_counts'] {
  if (!v || typeof v !== 'object') return null;
  const c = v as Record<string, unknown>;
  return { pass: num(c.pass), warn: num(c.warn), block: num(c.block), skip: num(c.skip) };
}

let runsCache: { key: string; runs: RunRecord[] } | null = null;
/** Bytes read from the end of runs.jsonl: the newest few hundred runs. */
const TAIL_BYTES = 4 * 1024 * 1024;

/** Run history, newest first. Read from the end of the file, cached until it changes. */
export async function runHistory(root: string, limit = 200): Promise<RunRecord[]> {
  const path = join(storePaths(root).stateDir, 'runs.jsonl');
  const s = await stat(path).catch(() => null);
  if (!s) return [];
  const key = `${root}:${s.size}:${s.mtimeMs}`;
  if (runsCache?.key === key) return runsCache.runs.slice(0, limit);
  const fh = await open(path, 'r');
  let text: string;
  try {
    const start = Math.max(0, s.size - TAIL_BYTES);
    const buf = Buffer.alloc(s.size - start);
    await fh.read(buf, 0, buf.length, start);
    text = buf.toString('utf8');
    if (start > 0) text = text.slice(text.indexOf('\n') + 1);
  } finally {
    await fh.close();
  }
  const runs: RunRecord[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    let r: Record<string, unknown>;
    try {
      r = JSON.parse(line) as Record<string, unknown>;
    } catch {
      continue; // a line being appended right now
    }
    const files = Array.isArray(r.files) ? (r.files as Record<string, unknown>[]).map(fileOf) : [];
    runs.push({
      run_id: (r.run_id as string | null) ?? null,
      status: String(r.status ?? 'unknown'),
      started_at: (r.started_at as string | null) ?? null,
      finished_at: (r.finished_at as string | null) ?? null,
      as_of: (r.as_of as string | null) ?? null,
      seconds: typeof r.seconds === 'number' ? r.seconds : null,
      files: files.length,
      files_rejected: files.filter((f) => f.rejected).length,
      rows_read: files.reduce((t, f) => t + f.rows_read, 0),
      rows_loaded: files.reduce((t, f) => t + f.rows_loaded, 0),
      rows_quarantined: files.reduce((t, f) => t + f.rows_quarantined, 0),
      metrics_rows: typeof r.metrics_rows === 'number' ? r.metrics_rows : null,
      message: (r.message as string | null) ?? null,
      file_details: files,
      quality_counts: qualityCountsOf(r.quality_counts),
      quality_findings: (Array.isArray(r.quality) ? (r.quality as Record<string, unknown>[]) : [])
        .filter((q) => q.status === 'warn' || q.status === 'block')
        .map((q) => ({ status: String(q.status), message: String(q.message ?? '') })),
    });
  }
  runs.reverse();
  runsCache = { key, runs };
  return runs.slice(0, limit);
}

/** Per-file counts of the run that produced this generation. */
export async function loadReport(gen: Generation): Promise<RunFile[] | null> {
  if (!gen.hasTable('load_report')) return null;
  const rows = await gen.query<Record<string, unknown>>(`SELECT * FROM load_report ORDER BY file`);
  return rows.map(fileOf);
}

/** The quality-gate results of the run that produced this generation, blocking gates first. */
export async function qualityChecks(gen: Generation): Promise<QualityCheck[] | null> {
  if (!gen.hasTable('quality_checks')) return null;
  return gen.query<QualityCheck>(`SELECT check_id, entity, kind, severity, status, observed, threshold, violations, rows_checked, message FROM quality_checks
    ORDER BY CASE status WHEN 'block' THEN 0 WHEN 'warn' THEN 1 WHEN 'pass' THEN 2 ELSE 3 END, check_id`);
}

/** Each entity's rows and latest event date, with days behind the as-of date. */
export async function freshness(gen: Generation) {
  if (!gen.hasTable('entity_freshness')) return null;
  const rows = await gen.query<{ entity: string; rows_loaded: number; latest_date: string | null }>(
    `SELECT entity, rows_loaded, CAST(latest_date AS VARCHAR) AS latest_date FROM entity_freshness ORDER BY entity`);
  const asOf = Date.parse(`${gen.asOf}T00:00:00Z`);
  return rows.map((r) => ({
    ...r,
    days_behind_as_of: r.latest_date ? Math.round((asOf - Date.parse(`${r.latest_date}T00:00:00Z`)) / 86_400_000) : null,
  }));
}
