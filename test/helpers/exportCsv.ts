// Reading `closeloop export` CSV files the way an outside attacker does: every field as text,
// rows keyed by their results-table key (tests that diff consecutive publications).
import { readFileSync } from 'node:fs';
import { METRICS } from '../../models/metrics/catalog.ts';
import { parseCsv } from '../models/stats/referenceCsv.ts';

export type ExportRow = Record<string, string>;

/** The rows of an exported CSV (byte-order mark dropped), each as column -> text. */
export function readExportCsv(file: string): ExportRow[] {
  const [head, ...rows] = parseCsv(readFileSync(file, 'utf8').replace(/^\uFEFF/, ''));
  return rows.map((r) => Object.fromEntries(r.map((v, i) => [head![i]!, v])));
}

/** A row's key: metric, grain, period start, dimension and group. */
export const keyOf = (r: ExportRow) => [r.metric_id, r.period_grain, r.period_start, r.dimension, r.group_value].join('|');

/** A figure, or null when the field is empty. */
export const num = (s: string | undefined) => (s === undefined || s === '' ? null : Number(s));

/** Rate metrics: their denominator is person-time (member-months), not a count of people. */
export const RATE_METRICS: ReadonlySet<string> = new Set(METRICS.filter((m) => m.kind === 'rate').map((m) => m.id));
