// `closeloop quarantine`: the rows the loader kept out, each with its file, physical
// line, rules, message, status and the raw record exactly as it came. Person-level
// data: read from the warehouse on this machine only; no endpoint serves it.
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { openDatabase, rows, sqlString as str } from '../models/duckdb.ts';
import { toCsv, type CsvColumn } from '../server/exports/csv.ts';
import { RULES } from './ingest/rules.ts';
import { blockedQuarantineDir } from './ingest/blockedQuarantine.ts';
import { readPointer, storePaths } from './store.ts';

export const QUARANTINE_STATUSES = ['open', 'resolved', 'superseded'] as const;

export interface QuarantineOptions {
  root: string;
  file?: string;
  rule?: string;
  /** open (default), resolved, superseded or all. */
  status?: string;
  format: 'text' | 'json' | 'csv';
  write: (text: string) => void;
  /** Notes for the person at the terminal (stderr), kept out of --json / --csv output. */
  note: (text: string) => void;
}

export class QuarantineRefused extends Error {}

interface QuarantineRow {
  file: string;
  line: number | null;
  entity: string;
  rule: string;
  rules: string[];
  column: string | null;
  message: string;
  status: string;
  run_id: string;
  resolved_run_id: string | null;
  raw_record: string | null;
}

const PAGE = 10_000;

/**
 * Lists quarantined rows from the current warehouse generation or, when the latest run
 * was blocked by a data-quality gate, from the quarantine that run kept (it holds the
 * current generation's rows too, as that run left them). Returns how many were listed.
 */
export async function listQuarantine(o: QuarantineOptions): Promise<number> {
  const status = o.status ?? 'open';
  if (status !== 'all' && !(QUARANTINE_STATUSES as readonly string[]).includes(status)) {
    throw new QuarantineRefused(`--status must be one of ${[...QUARANTINE_STATUSES, 'all'].join(', ')}, got "${status}"`);
  }
  if (o.rule !== undefined && !(o.rule in RULES)) throw new QuarantineRefused(`unknown rule "${o.rule}"; rules: ${Object.keys(RULES).join(', ')}`);
  const source = await quarantineSource(o.root);
  if (source.blockedRunId) o.note(`Run ${source.blockedRunId} was blocked by a data-quality gate and published nothing; this is the quarantine as it left it.`);
  const where = [
    status === 'all' ? null : `status = ${str(status)}`,
    o.file !== undefined ? `file = ${str(o.file)}` : null,
    o.rule !== undefined ? `rule = ${str(o.rule)}` : null,
  ].filter(Boolean);
  const db = await openDatabase(source.path, { readOnly: true, memoryLimit: '1GB', threads: 1 });
  try {
    let listed = 0;
    if (o.format === 'json') o.write('[');
    for (let offset = 0; ; offset += PAGE) {
      const page = await rows<QuarantineRow>(db.conn, `SELECT file, line, entity, rule, rules, column_name AS "column", message, status, run_id, resolved_run_id, raw_record::VARCHAR AS raw_record
        FROM quarantine ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY file, line NULLS LAST, run_id, rule LIMIT ${PAGE} OFFSET ${offset}`);
      if (o.format === 'json') o.write(page.map((r, i) => `${listed + i ? ',' : ''}\n${JSON.stringify(asJson(r))}`).join(''));
      else if (o.format === 'csv') o.write(csvPage(page, listed === 0));
      else o.write(page.map(asText).join(''));
      listed += page.length;
      if (page.length < PAGE) break;
    }
    if (o.format === 'json') o.write(listed ? '\n]\n' : ']\n');
    if (o.format === 'text') {
      const filters = [`status ${status}`, o.file ? `file ${o.file}` : null, o.rule ? `rule ${o.rule}` : null].filter(Boolean).join(', ');
      o.note(`${listed.toLocaleString('en-US')} quarantined row${listed === 1 ? '' : 's'} (${filters}) in ${source.blockedRunId ? `blocked run ${source.blockedRunId}` : `the warehouse of run ${source.runId}`}.`);
    }
    return listed;
  } finally {
    db.close();
  }
}

/**
 * The warehouse to read: the quarantine a blocked run kept, if it was made after the
 * published generation (a later publish removes it; the time guards against a publish
 * that died before removing it), else the current warehouse.
 */
async function quarantineSource(root: string): Promise<{ path: string; runId: string; blockedRunId: string | null }> {
  const paths = storePaths(root);
  const pointer = await readPointer(paths);
  const dir = blockedQuarantineDir(paths);
  const blocked = (await readdir(dir).catch(() => [] as string[])).filter((n) => n.endsWith('.duckdb')).sort().at(-1);
  if (blocked) {
    const madeAt = (await stat(join(dir, blocked))).mtimeMs;
    const blockedRunId = blocked.replace(/\.duckdb$/, '');
    if (!pointer || madeAt > Date.parse(pointer.published_at)) return { path: join(dir, blocked), runId: blockedRunId, blockedRunId };
  }
  if (!pointer) throw new QuarantineRefused(`nothing has been loaded into ${root} yet (no published run, no blocked run)`);
  return { path: join(paths.warehouseDir, pointer.warehouse), runId: pointer.run_id, blockedRunId: null };
}

function asJson(r: QuarantineRow) {
  return { ...r, raw_record: r.raw_record === null ? null : (JSON.parse(r.raw_record) as unknown) };
}

function asText(r: QuarantineRow): string {
  const rules = r.rules.length > 1 ? ` [${r.rules.join(', ')}]` : '';
  return `${r.file} line ${r.line ?? '?'}  ${r.rule}${rules}${r.column ? `  ${r.column}` : ''}  ${r.status}\n` +
    `  ${r.message}\n` +
    `  raw: ${r.raw_record ?? ''}\n`;
}

const CSV_COLUMNS: CsvColumn[] = ['file', 'line', 'entity', 'rule', 'rules', 'column', 'message', 'status', 'run_id', 'resolved_run_id', 'raw_record'].map((key) => ({ key }));
const CSV_HEADER_LENGTH = toCsv(CSV_COLUMNS, []).length;

function csvPage(page: QuarantineRow[], withHeader: boolean): string {
  const text = toCsv(CSV_COLUMNS, page as unknown as Array<Record<string, unknown>>);
  return withHeader ? text : text.slice(CSV_HEADER_LENGTH);
}
