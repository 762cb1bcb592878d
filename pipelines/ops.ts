// `closeloop runs` (run history) and `closeloop rollback` (switch the pointer back to a
// kept generation), used by pipelines/cli.ts.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { openDatabase, rows } from '../models/duckdb.ts';
import {
  acquireWriterLock, appendHistory, listGenerations, publishedRunIds, readPointer, settleHistory, storePaths, writePointer, type Pointer,
} from './store.ts';

export interface HistoryRecord {
  run_id: string | null;
  status: string;
  trigger?: string | null;
  attempt?: number | null;
  started_at?: string;
  finished_at?: string;
  as_of?: string | null;
  seconds?: number;
  message?: string | null;
  exit_code?: number | null;
  phases?: Record<string, number>;
  metrics_rows?: number;
  files?: Array<{ file: string; entity: string; rows_read: number; rows_loaded: number; rows_quarantined: number; rejected: boolean }>;
  quality?: Array<{ id: string; status: string; message: string }>;
  quality_counts?: { pass: number; warn: number; block: number; skip: number };
}

/** The run history, newest first. */
export async function readHistory(root: string, limit = 20): Promise<HistoryRecord[]> {
  const text = await readFile(join(storePaths(root).stateDir, 'runs.jsonl'), 'utf8').catch(() => '');
  const out: HistoryRecord[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as HistoryRecord);
    } catch {
      // a line torn by a killed process
    }
  }
  return out.reverse().slice(0, limit);
}

const n = (x: number) => x.toLocaleString('en-US');

export function formatHistory(records: HistoryRecord[], current: string | null): string {
  if (!records.length) return 'No runs yet.';
  const lines: string[] = [];
  for (const r of records) {
    const files = r.files ?? [];
    const mark = r.run_id && r.run_id === current && r.status === 'published' ? ' (current)' : '';
    lines.push(`${r.started_at ?? '?'}  ${(r.status ?? '?').toUpperCase()}${mark}  run ${r.run_id ?? '-'}  by ${r.trigger ?? '?'}${r.attempt ? ` (attempt ${r.attempt})` : ''}  ${r.seconds !== undefined ? `${r.seconds.toFixed(1)} s` : ''}${r.as_of ? `  as of ${r.as_of}` : ''}`);
    if (r.phases && Object.keys(r.phases).length) lines.push(`    phases: ${Object.entries(r.phases).map(([k, v]) => `${k} ${v.toFixed(2)} s`).join(', ')}`);
    if (files.length) {
      const sum = (k: 'rows_read' | 'rows_loaded' | 'rows_quarantined') => files.reduce((a, f) => a + (f[k] ?? 0), 0);
      lines.push(`    files: ${files.length} (${files.filter((f) => f.rejected).length} rejected); rows read ${n(sum('rows_read'))}, loaded ${n(sum('rows_loaded'))}, quarantined ${n(sum('rows_quarantined'))}${r.metrics_rows ? `; ${n(r.metrics_rows)} metric rows` : ''}`);
    }
    if (r.quality_counts) lines.push(`    checks: ${r.quality_counts.pass} passed, ${r.quality_counts.warn} warned, ${r.quality_counts.block} blocking, ${r.quality_counts.skip} skipped`);
    for (const q of (r.quality ?? []).filter((x) => x.status === 'warn' || x.status === 'block')) lines.push(`      ${q.status === 'block' ? 'BLOCK' : 'warn '} ${q.message}`);
    if (r.message && r.status !== 'published') lines.push(`    ${r.message}`);
  }
  return lines.join('\n');
}

export class RollbackRefused extends Error {}

/**
 * Switch the pointer to an earlier kept generation (or the one named), atomically, under
 * the writer lock. The server picks the change up between requests like any publish.
 */
export async function rollback(root: string, to?: string): Promise<{ from: Pointer; to: Pointer }> {
  const paths = storePaths(root);
  const release = await acquireWriterLock(paths, 'rollback');
  try {
    const from = await readPointer(paths);
    if (!from) throw new RollbackRefused(`nothing is published in ${root}: there is nothing to roll back`);
    const published = await publishedRunIds(paths);
    const kept = (await listGenerations(paths)).filter((g) => g.complete && (published.has(g.run_id) || g.run_id === from.run_id));
    const target = to ? kept.find((g) => g.run_id === to) : kept.filter((g) => g.run_id < from.run_id).at(-1);
    if (!target) {
      const ids = kept.map((g) => g.run_id).join(', ') || 'none';
      throw new RollbackRefused(to ? `generation ${to} is not kept (kept: ${ids})` : `no earlier generation is kept (kept: ${ids}); raise keepGenerations to keep more`);
    }
    if (target.run_id === from.run_id) throw new RollbackRefused(`${to} is already the published generation`);
    // Check the file opens and say what it holds before pointing users at it.
    const db = await openDatabase(join(paths.publishedDir, target.published), { readOnly: true, memoryLimit: '256MB', threads: 1 });
    let info: { run_id: string; as_of: string };
    try {
      info = (await rows<{ run_id: string; as_of: string }>(db.conn, `SELECT run_id, CAST(as_of AS VARCHAR) AS as_of FROM run_info`))[0]!;
    } finally {
      db.close();
    }
    if (!info || info.run_id !== target.run_id) throw new RollbackRefused(`${target.published} does not hold run ${target.run_id}`);
    const next: Pointer = { run_id: target.run_id, as_of: info.as_of, warehouse: target.warehouse, published: target.published, published_at: new Date().toISOString() };
    // the history of the publication rolled back from, if a crash left it beside the last one
    await settleHistory(paths, from.run_id);
    await writePointer(paths, next);
    const at = new Date().toISOString();
    await appendHistory(paths, {
      run_id: target.run_id, status: 'rollback', as_of: info.as_of, files: [], metrics_rows: 0, seconds: 0, exit_code: 0, phases: {}, quality: [],
      failure: null, trigger: process.env.CLOSELOOP_TRIGGER ?? 'cli', message: `rolled back from ${from.run_id} to ${target.run_id}`, started_at: at, finished_at: at, pid: process.pid,
    });
    return { from, to: next };
  } finally {
    await release();
  }
}
