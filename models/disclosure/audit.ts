// The independent audit of a publication: an attacker (issue 14's attacker model) run on
// what is published. It shares no code with the suppressor (suppress.ts,
// suppressionCore.ts, relationsSql.ts): it reads the published rows, builds every linear
// relation among them its own way (attacker/system.ts, attacker/ties.ts) and asks of each
// withheld count what an attacker with a linear-programming solver can prove
// (attacker/ranges.ts). A publish that fails it is blocked; `closeloop audit-suppression
// FILE` runs the same attacker on any exported CSV.
//
// Checks:
//  - primary: no shown count (numerator, denominator, complement, events, censored cases,
//    a count, the cases of a mean, person-time, the people behind whole-window
//    person-time) is in 1..threshold-1;
//  - withheld_figures: a withheld row shows no numerator, denominator, value, interval or
//    statistic; a comparison against a withheld reference group shows no statistic;
//  - disclosure: no withheld protected count has a feasible range inside 1..threshold-1
//    (exact, or bounded), under the relations between groups and `all`, two-way cells and
//    margins, grains, a proportion's parts, counts shared by metrics, tied dimensions and
//    whole-window person-time. Zero may be shown and may be derived.
import { createHash } from 'node:crypto';
import type { DuckDBConnection } from '@duckdb/node-api';
import { openDatabase, rows as readRows } from '../duckdb.ts';
import { readColumns } from './columnar.ts';
import { atomsOf, atomValues } from './attacker/atoms.ts';
import { findDisclosures, type RangeOptions } from './attacker/ranges.ts';
import { favourableDisjunctions, favourableReferenceRelations, type FavourableOptions } from './attacker/reference.ts';
import { definitionalTies, sharedCountTies } from './attacker/ties.ts';
import { existenceRelations, openEndedGroups, uncoveredGroups } from './attacker/existence.ts';
import { buildSystem, cellKey, peopleKey, type AuditCell, type ExtraRelation, type LinearSystem, type PeopleRule } from './attacker/system.ts';
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
  /** Days from the period's end to the as-of date (when the table has both columns). */
  elapsed_days?: number | null;
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
  /** `pending revision`: the row shows the previous publication's figures (consecutive publications). */
  note?: string | null;
}

export type AuditRelation = 'catalog' | 'primary' | 'withheld_figures' | 'reference' | 'disclosure' | 'revision';

/**
 * The note of a row whose current figures are held back because their change since the
 * previous publication would disclose a small count: the row shows the previous
 * publication's figures (its run_id and as_of say which). To the attacker the row is
 * withheld in this publication, and its figures are the previous one's.
 */
export const PENDING_REVISION = 'pending revision';

export interface AuditViolation {
  relation: AuditRelation;
  metric_id: string;
  period_grain: string;
  period_start: string;
  dimension: string;
  group_value: string;
  message: string;
  /** disclosure: the count and the attacker's proven range */
  count?: string;
  low?: number;
  high?: number;
}

export interface AuditReport {
  ok: boolean;
  rows: number;
  /** relations the attacker used */
  relations: number;
  violations: AuditViolation[];
  /** what the attacker did: components, candidates, LPs, and relations dropped as untrue */
  attacker?: { components: number; reused: number; candidates: number; lps: number; mips: number; seconds: number; byRelation: Record<string, number>; dropped: Record<string, number>; certified: string[] };
  /** Without the truth: counts equal across metrics, guessed from the shown groups, contradicted the figures and were not used. */
  guessesDropped?: boolean;
}

export interface AuditOptions {
  metrics: readonly MetricInput[];
  threshold: number;
  /** With a connection: the published table to read (default metric_results). */
  table?: string;
  /**
   * With a connection: the same table before suppression (the run's own audit), or its rows
   * as readAuditTable gave them (the rounds read the unchanging truth once).
   */
  truthTable?: string | readonly AuditRow[];
  /** Whether each published cut lists its whole frame of groups (default 'frames'). */
  existence?: 'frames' | 'row-implies-positive';
  /** Relations found in the data (tied dimensions); shared counts are found here. */
  ties?: readonly ExtraRelation[];
  /** Whole-window person-time (pre/post referral). */
  people?: PeopleRule;
  /** Decide exactly what local certificates leave open (default true; attacker/ranges.ts). */
  exact?: boolean;
  /** Counts shown safe on an earlier round's smaller publication (attacker/ranges.ts). */
  settled?: ReadonlySet<string>;
  /** Components decided before, by fingerprint (attacker/ranges.ts, RangeOptions.memo). */
  memo?: RangeOptions['memo'];
  /**
   * The previous publication, as its users saw it (rows, or with a connection the name of a
   * table). The attacker holds both: the change of a protected count between the two must
   * be 0 or at least the threshold in size, or not provable inside either band.
   */
  previous?: readonly AuditRow[] | string;
  /**
   * The most_favourable reference rule (attacker/reference.ts): with the true figures, every
   * withheld group gets the branch of the rule it is truly in; without them (an exported
   * file), the rule's disjunction itself.
   */
  favourable?: FavourableOptions;
  /**
   * The rows of the earlier publications, whose open-ended groups are already in the frames
   * (attacker/existence.ts); default: `previous`. The run's first phase audits without
   * `previous` but with these.
   */
  earlierFrames?: readonly AuditRow[] | string;
  /**
   * The true figures of the rows the last publication did not show (withheld, pending
   * revision, or in a cut it removed; the store's history, revisions.ts). The attacker
   * bounded each such count in that publication; the audit takes
   * it as known exactly, a stronger attacker (the truth is a point of the attacker's
   * range), so the change since then of a count shown now must be 0 or at least the
   * threshold, and the change of a count withheld now is protected like a count. Only with
   * `previous` (the second phase of a run and its final audit).
   */
  withheldBefore?: readonly AuditRow[] | string;
}

const STAT_FIELDS = ['rate_difference', 'rd_ci_low', 'rd_ci_high', 'rate_ratio', 'rr_ci_low', 'rr_ci_high', 'p_value', 'q_value', 'disparity_flag'] as const;
const FIGURE_FIELDS = ['numerator', 'denominator', 'value', 'ci_low', 'ci_high', ...STAT_FIELDS] as const;
const ATOM_NAMES: Record<string, string> = {
  N: 'numerator', C: 'complement (denominator - numerator)', D: 'denominator', E: 'events', K: 'censored cases',
  X: 'count', n: 'cases', T: 'person-time (member-months)', P: 'people behind the person-time', S: 'case switch',
};

export async function auditResults(input: readonly AuditRow[] | DuckDBConnection, opts: AuditOptions): Promise<AuditReport> {
  checkAuditThreshold(opts.threshold);
  const t = performance.now();
  const published = Array.isArray(input) ? [...(input as readonly AuditRow[])] : await readTable(input as DuckDBConnection, opts.table ?? 'metric_results', false);
  if (process.env.CLOSELOOP_TRACE_AUDIT) console.error(`audit steps: read ${((performance.now() - t) / 1000).toFixed(2)} s`);
  const truth = Array.isArray(input) || !opts.truthTable ? null : typeof opts.truthTable === 'string' ? await readTable(input as DuckDBConnection, opts.truthTable, false) : opts.truthTable;
  const previous = typeof opts.previous === 'string' ? await readTable(input as DuckDBConnection, opts.previous, false) : opts.previous as readonly AuditRow[] | undefined;
  const earlierFrames = typeof opts.earlierFrames === 'string' ? await readTable(input as DuckDBConnection, opts.earlierFrames, false) : opts.earlierFrames as readonly AuditRow[] | undefined;
  const withheldBefore = typeof opts.withheldBefore === 'string' ? await readTable(input as DuckDBConnection, opts.withheldBefore, false) : opts.withheldBefore as readonly AuditRow[] | undefined;
  return audit(published, truth, { ...opts, previous, earlierFrames, withheldBefore });
}

/**
 * Audits an exported results CSV (a filtered export is fine). Text cells the export
 * neutralised against formula injection (a leading ' before = + - @ tab CR) are restored
 * first. Without `existence`, a file that publishes zero rows is taken to list whole frames.
 */
/** An export whose reference groups are not the configured named ones: it was published under other rules. */
export class ReferenceRuleMismatch extends Error {}

export async function auditCsv(
  path: string,
  // an export has no truth: the true figures withheld before are the store's, not the file's
  opts: Omit<AuditOptions, 'table' | 'truthTable' | 'previous' | 'earlierFrames' | 'withheldBefore'> & {
    previousPath?: string;
    /** The named reference group per dimension of the configuration the rule is read from (closeloop.config.json). */
    namedGroups?: ReadonlyMap<string, string>;
  },
): Promise<AuditReport> {
  checkAuditThreshold(opts.threshold);
  const db = await openDatabase(':memory:', { memoryLimit: '2GB' });
  let reading = path;
  try {
    await db.conn.run(`CREATE TEMP TABLE audit_csv AS SELECT * FROM read_csv(${quote(path)}, header = true, all_varchar = true)`);
    const published = await readTable(db.conn, 'audit_csv', true);
    let previous: AuditRow[] | undefined;
    if (opts.previousPath) {
      reading = opts.previousPath;
      await db.conn.run(`CREATE TEMP TABLE audit_previous AS SELECT * FROM read_csv(${quote(opts.previousPath)}, header = true, all_varchar = true)`);
      previous = await readTable(db.conn, 'audit_previous', true);
      reading = path;
    }
    const existence = opts.existence ?? (published.some((r) => !r.suppressed && r.denominator === 0) ? 'frames' : 'row-implies-positive');
    // the reference rule reads each cut's reference_group: a file without the column says nothing of it
    const referenced = (await readRows<{ c: string }>(db.conn, `SELECT column_name AS c FROM duckdb_columns() WHERE table_name = 'audit_csv' AND column_name = 'reference_group'`)).length > 0;
    // A configuration other than the export's would take a most_favourable dimension for a
    // named one and leave out the rule's disjunction: an attacker who knows the rule would
    // then do better than the audit. A named dimension's cuts all name its group.
    if (referenced && opts.namedGroups?.size) await checkNamedReferences(db.conn, path, opts.namedGroups);
    return await audit(published, null, { ...opts, existence, previous, favourable: referenced ? opts.favourable : undefined });
  } catch (err) {
    if (err instanceof ReferenceRuleMismatch) throw err;
    throw new Error(`${reading}: ${(err as Error).message}`);
  } finally {
    db.close();
  }
}

function checkAuditThreshold(threshold: number): void {
  if (!Number.isInteger(threshold) || threshold < 11) throw new Error(`audit threshold must be an integer >= 11, got ${threshold}`);
}

/** The export prefixes ' to text starting with = + - @ tab or CR (server/exports/neutralise.ts). */
export function unneutralise(s: string): string {
  return /^'[=+\-@\t\r]/.test(s) ? s.slice(1) : s;
}

const quote = (s: string) => `'${s.replaceAll("'", "''")}'`;
const ident = (s: string) => `"${s.replaceAll('"', '""')}"`;

/** The first row of a named dimension whose reference_group is another group, as a ReferenceRuleMismatch. */
async function checkNamedReferences(conn: DuckDBConnection, path: string, named: ReadonlyMap<string, string>): Promise<void> {
  const text = (c: string) => `CASE WHEN regexp_matches(${c}, '^''[=+\\-@\\t\\r]') THEN substr(${c}, 2) ELSE ${c} END`;
  const pairs = [...named].map(([d, g]) => `(${quote(d)}, ${quote(g)})`).join(', ');
  const found = await readRows<{ line: number; dimension: string; reference: string; named: string }>(conn, `
    SELECT (a.rowid + 2)::INTEGER AS line, n.d AS dimension, ${text('a.reference_group')} AS reference, n.g AS named
    FROM audit_csv a JOIN (VALUES ${pairs}) n(d, g) ON ${text('a.dimension')} = n.d
    WHERE NULLIF(trim(a.reference_group), '') IS NOT NULL AND ${text('a.reference_group')} <> n.g
    ORDER BY a.rowid LIMIT 1`);
  const x = found[0];
  if (x) {
    throw new ReferenceRuleMismatch(`${path} line ${x.line}: the export names ${x.reference} as the reference group of ${x.dimension}, but the configuration the audit reads the reference rule from `
      + `(closeloop.config.json, or CLOSELOOP_CONFIG) names ${x.named}: the export was published under other rules, and audited under these it could pass while an attacker who knows its rule derives a count. `
      + 'Audit it with the configuration it was published under.');
  }
}

async function readTable(conn: DuckDBConnection, table: string, csv: boolean): Promise<AuditRow[]> {
  const present = (await readRows<{ c: string }>(conn, `SELECT column_name AS c FROM duckdb_columns() WHERE table_name = ${quote(table)}`)).map((r) => r.c);
  for (const c of ['metric_id', 'period_grain', 'period_start', 'dimension', 'group_value', 'numerator', 'denominator', 'value', 'suppressed']) {
    if (!present.includes(c)) throw new Error(`no ${c} column: not a results table`);
  }
  const text = (c: string) => (csv ? `CASE WHEN regexp_matches(${ident(c)}, '^''[=+\\-@\\t\\r]') THEN substr(${ident(c)}, 2) ELSE ${ident(c)} END` : `${ident(c)}::VARCHAR`);
  const num = (c: string) => (csv ? `CAST(NULLIF(trim(${ident(c)}), '') AS DOUBLE)` : `${ident(c)}::DOUBLE`);
  const bool = (c: string) => (csv ? `CAST(NULLIF(trim(${ident(c)}), '') AS BOOLEAN)` : ident(c));
  const optional = FIGURE_FIELDS.slice(3).map((f) => (present.includes(f) ? `${f === 'disparity_flag' ? bool(f) : num(f)} AS ${f}` : `NULL AS ${f}`));
  return readRowsColumnar(conn, `SELECT coalesce(${text('metric_id')}, '') AS metric_id, coalesce(${text('period_grain')}, '') AS period_grain,
  coalesce(${csv ? text('period_start') : 'period_start::VARCHAR'}, '') AS period_start, coalesce(${text('dimension')}, '') AS dimension,
  coalesce(${text('group_value')}, '') AS group_value, ${num('numerator')} AS numerator, ${num('denominator')} AS denominator, ${num('value')} AS value,
  coalesce(${bool('suppressed')}, false) AS suppressed, ${present.includes('reference_group') ? text('reference_group') : 'NULL::VARCHAR'} AS reference_group,
  ${present.includes('as_of') && present.includes('period_end') ? (csv ? `(TRY_CAST(NULLIF(trim(as_of), '') AS DATE) - TRY_CAST(NULLIF(trim(period_end), '') AS DATE))::INTEGER` : '(as_of::DATE - period_end::DATE)::INTEGER') : 'NULL::INTEGER'} AS elapsed_days,
  ${optional.join(', ')}, ${present.includes('note') ? text('note') : 'NULL::VARCHAR'} AS note
FROM ${ident(table)}
ORDER BY 1, 2, 3, 4, 5`); // a fixed order: the attacker's system (and so the publish) must not depend on scan order
}

/**
 * A query's rows as objects, read column by column (every column of readTable's query is
 * VARCHAR, DOUBLE, INTEGER or BOOLEAN, so the JSON values need no normalising): the rounds
 * read the whole table each time, and row-by-row conversion was most of that read.
 */
async function readRowsColumnar(conn: DuckDBConnection, sql: string): Promise<AuditRow[]> {
  const { length, columns } = await readColumns(conn, sql);
  const names = Object.keys(columns);
  const out: AuditRow[] = new Array(length);
  for (let i = 0; i < length; i++) {
    const r: Record<string, unknown> = {};
    for (const n of names) r[n] = columns[n]![i];
    out[i] = r as unknown as AuditRow;
  }
  return out;
}

/** A results table as the audit reads it (in its fixed order), to pass as truthTable or previous. */
export function readAuditTable(conn: DuckDBConnection, table: string): Promise<AuditRow[]> {
  return readTable(conn, table, false);
}

const keyOf = (r: Pick<AuditRow, 'metric_id' | 'period_grain' | 'period_start' | 'dimension' | 'group_value'>) =>
  `${r.metric_id}\u001f${r.period_grain}\u001f${r.period_start}\u001f${r.dimension}\u001f${r.group_value}`;

/**
 * What the rounds of one publish share (finalise.ts passes the same truth rows each round):
 * the truth by key, and the ties found in the data for the last set of rows audited. Ties
 * with the truth at hand depend only on the rows published (their keys, the truth and the
 * days elapsed), not on which are withheld; the rows change only when a cut is removed.
 */
const truthCache = new WeakMap<readonly AuditRow[], { byKey: Map<string, AuditRow>; spanned: Set<string>; rows?: string; ties?: { shared: ExtraRelation[]; definitional: ExtraRelation[] } }>();

function rowsFingerprint(cells: readonly AuditCell[]): string {
  const h = createHash('sha256');
  // a row without a true figure is tied by its shown one (sharedCountTies): that goes in too
  for (const c of cells) h.update(`${cellKey(c)}\u001e${c.elapsedDays ?? ''}${c.truth ? '' : `\u001e${JSON.stringify(c.shown)}`}\u001d`);
  return h.digest('hex');
}

async function audit(published: AuditRow[], truth: readonly AuditRow[] | null, opts: Omit<AuditOptions, 'previous' | 'earlierFrames' | 'withheldBefore'> & { previous?: readonly AuditRow[]; earlierFrames?: readonly AuditRow[]; withheldBefore?: readonly AuditRow[] }): Promise<AuditReport> {
  const metas = metricMetaMap(opts.metrics);
  const T = opts.threshold;
  const violations: AuditViolation[] = [];
  const at = (r: AuditRow, relation: AuditRelation, message: string, extra: Partial<AuditViolation> = {}) =>
    violations.push({ relation, metric_id: r.metric_id, period_grain: r.period_grain, period_start: r.period_start, dimension: r.dimension, group_value: r.group_value, message, ...extra });

  const known = published.filter((r) => {
    if (metas.has(r.metric_id)) return true;
    at(r, 'catalog', `metric ${r.metric_id} is not in the catalog: the audit cannot tell which of its figures are counts`);
    return false;
  });
  const started = performance.now();
  let cached = truth ? truthCache.get(truth) : undefined;
  if (truth && !cached) {
    // the series with whole-span rows when the reference groups were chosen (attacker/reference.ts)
    const spanned = new Set(truth.filter((r) => r.period_grain === 'all').map((r) => `${r.metric_id}\u001f${r.dimension}`));
    truthCache.set(truth, (cached = { byKey: new Map(truth.map((r) => [keyOf(r), r])), spanned }));
  }
  const truthByKey = cached?.byKey ?? null;
  // A row pending revision shows the previous publication's figures: in this publication it is withheld.
  const pending = (r: AuditRow) => !r.suppressed && r.note === PENDING_REVISION;
  const withheld = (r: AuditRow) => r.suppressed || pending(r);
  const withheldGroups = new Set(known.filter(withheld).map((r) => `${r.metric_id}\u001f${r.period_grain}\u001f${r.period_start}\u001f${r.dimension}\u001f${r.group_value}`));
  // the previous publication's figures, by row, as its users saw them (a row pending there shows older figures)
  const before = opts.previous ? previousFigures(opts.previous, known, metas) : null;
  // the true figures of the rows the last publication did not show, by row
  const truthsThen = new Map(opts.previous ? (opts.withheldBefore ?? []).map((t) => [keyOf(t), t]) : []);

  for (const r of known) {
    const meta = metas.get(r.metric_id) as MetricMeta;
    if (pending(r)) {
      const b = before?.get(keyOf(r));
      if (before && (!b || (['numerator', 'denominator', 'value'] as const).some((f) => !sameFigure(r[f], b[f])))) {
        at(r, 'revision', b ? 'pending revision, but its figures are not those of the previous publication' : 'pending revision, but the previous publication did not show this row');
      }
      continue;
    }
    if (r.suppressed) {
      const shown = FIGURE_FIELDS.filter((f) => r[f] !== null && r[f] !== undefined);
      if (shown.length) at(r, 'withheld_figures', `withheld row shows ${shown.join(', ')}`);
      continue;
    }
    // a comparison against a withheld reference group
    if (r.reference_group && r.reference_group !== r.group_value && withheldGroups.has(`${r.metric_id}\u001f${r.period_grain}\u001f${r.period_start}\u001f${r.dimension}\u001f${r.reference_group}`)) {
      const stats = STAT_FIELDS.filter((f) => r[f] !== null && r[f] !== undefined);
      if (stats.length) at(r, 'reference', `compared with the withheld reference group ${r.reference_group}: shows ${stats.join(', ')}`);
    }
    const figures = figuresOf(meta, r);
    for (const [name, v] of figures) {
      if (v !== null && v > 1e-9 && v < T - 1e-9) at(r, 'primary', `shows ${ATOM_NAMES[name]} ${round(v)}, a count in 1..${T - 1}`, { count: name, low: v, high: v });
    }
    if (opts.people?.metrics.includes(r.metric_id) && r.denominator !== null && r.denominator > 0 && Math.floor(r.denominator / opts.people.minPerPerson + 1e-9) < T) {
      at(r, 'primary', `shows ${round(r.denominator)} member-months of whole ${opts.people.maxPerPerson.toFixed(2)}-month windows: at most ${Math.floor(r.denominator / opts.people.minPerPerson + 1e-9)} people`, { count: 'P' });
    }
    // Consecutive publications: a count shown in both changed by 1..threshold-1; and a
    // count the last publication withheld, whose truth then is a point of the range the
    // attacker proved there (withheld at 13 within 11..15, shown now as 16: a change in 1..5).
    const changedSince = (then: AuditRow, since: string, was: (w: number, v: number) => string) => {
      const figuresThen = new Map(figuresOf(meta, then));
      figures.forEach(([name, v]) => {
        const w = figuresThen.get(name);
        if (name === 'T' || v === null || w === null || w === undefined) return;
        const change = v - w;
        if (Math.abs(change) > 1e-9 && Math.abs(change) < T - 1e-9) at(r, 'primary', `${ATOM_NAMES[name]} changed by ${round(change)} ${since} (${was(w, v)}): a change in 1..${T - 1}`, { count: name, low: change, high: change });
      });
      const people = opts.people?.metrics.includes(r.metric_id) ? opts.people : undefined;
      if (people && r.denominator !== null && then.denominator !== null) {
        const moved = Math.abs(r.denominator - then.denominator);
        if (moved > 1e-9 && Math.floor(moved / people.minPerPerson + 1e-9) < T) at(r, 'primary', `person-time changed by ${round(moved)} member-months ${since}: at most ${Math.floor(moved / people.minPerPerson + 1e-9)} people`, { count: 'P' });
      }
    };
    const b = before?.get(keyOf(r));
    if (b) changedSince(b, 'since the previous publication', (w, v) => `${round(w)} then ${round(v)}`);
    const t = truthsThen.get(keyOf(r));
    if (t) changedSince(t, 'since the last publication withheld it', (w, v) => `${round(w)} then, withheld, ${round(v)} now`);
  }

  if (before && opts.people) peopleChangedShown(known, before, truthsThen, opts.people, T, (r) => !withheld(r), at);

  const cells: AuditCell[] = known.map((r) => ({
    metric_id: r.metric_id, period_grain: r.period_grain, period_start: r.period_start, dimension: r.dimension, group_value: r.group_value,
    shown: withheld(r) ? null : { numerator: r.numerator, denominator: r.denominator, value: r.value },
    truth: truthByKey ? (truthByKey.get(keyOf(r)) ?? null) : undefined,
    elapsedDays: r.elapsed_days ?? null,
  }));
  // Counts equal across metrics in the data (sharedCountTies) are checked against the truth
  // when the audit has it. In an exported file they are the attacker's guesses about the
  // withheld cells, and a guess can be wrong: on a 3,000-person export one contradicted the
  // published figures. Then the audit goes on without the guesses and says so; the
  // definitions' own relations (definitionalTies) hold either way.
  const tiesStarted = performance.now();
  let ties = cached?.ties;
  const fingerprint = cached ? rowsFingerprint(cells) : '';
  const reusedTies = Boolean(ties) && cached?.rows === fingerprint;
  if (!ties || !reusedTies) {
    ties = { shared: sharedCountTies(cells, metas), definitional: definitionalTies(cells, metas, truthByKey !== null) };
    if (cached) Object.assign(cached, { rows: fingerprint, ties });
  }
  const references = known.map((r) => r.reference_group);
  const ordering = !opts.favourable ? [] : truthByKey
    ? favourableReferenceRelations(cells, references, metas, opts.favourable, cached?.spanned)
    : favourableDisjunctions(cells, references, metas, opts.favourable, spannedWithoutTruth(known));
  // A group's first appearance in an open-ended frame (attacker/existence.ts), checked
  // against the truth. A group with a row of the designed surface (the truth's rows) that
  // this publication does not carry (a cut the rounds removed), and that no carried row of
  // the group covers, may exist through that row alone: nothing follows. An export's audit
  // has neither the truth nor the surface: on a 1,500-person export the relations it read
  // from the published cuts alone contradicted the figures, so it leaves them out (the
  // run's own audit, which certifies every publish, has them).
  const earlier = opts.earlierFrames ?? opts.previous;
  const carried = truth ? new Set(known.map(keyOf)) : null;
  const existing = carried && (opts.existence ?? 'frames') === 'frames'
    ? existenceRelations(cells, metas, earlier ? openEndedGroups(earlier) : null, uncoveredGroups(truth!, carried, metas))
    : [];
  const fixed = [...ties.definitional, ...(opts.ties ?? []), ...ordering, ...existing];
  const shared = ties.shared;
  const seconds = { rows: (tiesStarted - started) / 1000, ties: (performance.now() - tiesStarted) / 1000, system: 0, solve: 0 };
  const attempt = async (extra: ExtraRelation[]) => {
    let t = performance.now();
    const sys = buildSystem(cells, { metas, threshold: T, existence: opts.existence ?? 'frames', extra, people: opts.people });
    if (before) {
      addChanges(sys, known, before, truthsThen, metas);
      if (opts.people) addPeopleChanges(sys, known, before, truthsThen, opts.people);
    }
    seconds.system += (performance.now() - t) / 1000;
    t = performance.now();
    const found = await findDisclosures(sys, { exact: opts.exact ?? true, settled: opts.settled, memo: opts.memo });
    seconds.solve += (performance.now() - t) / 1000;
    return { sys, found };
  };
  let guessesDropped = false;
  let result: Awaited<ReturnType<typeof attempt>>;
  try {
    result = await attempt([...shared, ...fixed]);
  } catch (err) {
    if (truthByKey || !shared.length || !/contradict each other/.test((err as Error).message)) throw err;
    guessesDropped = true;
    result = await attempt(fixed);
  }
  const { sys, found } = result;
  if (process.env.CLOSELOOP_TRACE_AUDIT) console.error(`audit steps: rows and checks ${seconds.rows.toFixed(2)} s, ties ${seconds.ties.toFixed(2)} s${reusedTies ? ' (reused)' : ''}, system ${seconds.system.toFixed(2)} s, solve ${seconds.solve.toFixed(2)} s`);
  for (const d of found.disclosures) {
    const v = sys.vars[d.var]!;
    const r = known[v.cell]!;
    if (d.unproven) {
      // say when it is a change since the previous publication: those are what stays open after a small update
      const what = v.change ? `the change of withheld ${ATOM_NAMES[v.atom]} ${since(v)}` : `withheld ${ATOM_NAMES[v.atom]}`;
      at(r, 'disclosure', `${what}: no solution found that puts it at 0 or at ${T} or more (not decided exactly)`, { count: v.atom });
      continue;
    }
    const range = d.exact ? `exactly ${round(d.low)}` : `within ${round(d.low)}..${round(d.high)}`;
    if (v.change) {
      const [lo, hi] = v.change > 0 ? [d.low, d.high] : [-d.high, -d.low];
      at(r, 'disclosure', `the change of withheld ${ATOM_NAMES[v.atom]} ${since(v)} can be derived ${d.exact ? `exactly ${round(lo)}` : `within ${round(lo)}..${round(hi)}`}`, { count: v.atom, low: lo, high: hi });
      continue;
    }
    at(r, 'disclosure', `withheld ${ATOM_NAMES[v.atom]} can be derived ${range} from the published figures`, { count: v.atom, low: d.low, high: d.high });
  }
  return {
    ok: violations.length === 0,
    rows: published.length,
    relations: sys.rows.length,
    violations,
    guessesDropped,
    attacker: { components: found.components, reused: found.reused, candidates: found.candidates, lps: found.lps, mips: found.mips, seconds: found.seconds, byRelation: sys.relations, dropped: sys.dropped, certified: found.certified },
  };
}

/**
 * Without the truth, the series (metric x dimension) whose references were chosen from the
 * whole span, as far as the file shows: all but those with no whole-span rows whose periods
 * name different references (the whole-span reference is the same in every period, and a
 * filtered export may leave the whole-span rows out). Only those provably chose their
 * reference period by period (attacker/reference.ts).
 */
function spannedWithoutTruth(rows: readonly AuditRow[]): Set<string> {
  const series = (r: AuditRow) => `${r.metric_id}\u001f${r.dimension}`;
  const whole = new Set(rows.filter((r) => r.period_grain === 'all').map(series));
  const names = new Map<string, Set<string>>();
  for (const r of rows) {
    if (r.period_grain === 'all' || !r.reference_group) continue;
    const set = names.get(series(r)) ?? new Set<string>();
    set.add(r.reference_group);
    names.set(series(r), set);
  }
  return new Set(rows.map(series).filter((k) => whole.has(k) || (names.get(k)?.size ?? 0) <= 1));
}

/**
 * The previous publication's shown figures by row key, and the zero rows its fixed frames
 * imply: a row of this publication whose cut (metric, grain, period, dimension) the previous
 * publication published without its group had a zero row then (every cut lists its whole
 * frame; an export without zero rows gives a row only to a group above zero). Such a row's
 * figures now are its change since then. A cut the previous publication did not publish (a
 * new period, a cut removed then) implies nothing.
 */
function previousFigures(previous: readonly AuditRow[], known: readonly AuditRow[], metas: Map<string, MetricMeta>): Map<string, AuditRow> {
  const cutOf = (r: AuditRow) => `${r.metric_id}\u001f${r.period_grain}\u001f${r.period_start}\u001f${r.dimension}`;
  const rowsThen = new Set(previous.map(keyOf));
  const cutsThen = new Set(previous.map(cutOf));
  const out = new Map(previous.filter((r) => !r.suppressed && metas.has(r.metric_id)).map((r) => [keyOf(r), r]));
  for (const r of known) {
    if (rowsThen.has(keyOf(r)) || !cutsThen.has(cutOf(r))) continue;
    // the zero row as the publication writes it (surface.ts): a mean has no numerator, a count no denominator
    const kind = metas.get(r.metric_id)!.kind;
    out.set(keyOf(r), { ...r, numerator: kind === 'mean' ? null : 0, denominator: kind === 'count' ? null : 0, value: kind === 'count' ? 0 : null, suppressed: false, note: null });
  }
  return out;
}

/**
 * Consecutive publications. The attacker holds the previous publication too: for a count
 * withheld now that was shown then (value o), the change x - o is protected like a count.
 * Each such count x gets two variables, u = x - o and w = o - x: the change is safe when
 * u and w can each reach 0 or the threshold (so the change can be 0, or reach the
 * threshold in size, in the direction the truth took). Counts shown in both publications
 * are the primary check above.
 *
 * The same for the truth of a count the last publication withheld (`truthsThen`): the
 * attacker bounded it there, and the audit takes it as known (a stronger attacker), so the
 * change from it gets its own u and w. A value equal to the figure shown then adds nothing.
 */
function addChanges(sys: LinearSystem, known: readonly AuditRow[], before: ReadonlyMap<string, AuditRow>, truthsThen: ReadonlyMap<string, AuditRow>, metas: Map<string, MetricMeta>) {
  // a finite floor for w (the region is shifted by its lower bound): far below any count of the table
  let big = 1000;
  for (const r of [...known, ...before.values(), ...truthsThen.values()]) for (const f of [r.numerator, r.denominator]) if (f !== null && Number.isFinite(f)) big = Math.max(big, 10 * Math.abs(f));
  const count = sys.vars.length;
  for (let xi = 0; xi < count; xi++) {
    const x = sys.vars[xi]!;
    if (x.atom === 'P' || x.atom === 'T') continue;
    const key = keyOf(known[x.cell]!);
    const figureOf = (r: AuditRow | undefined) => (r ? new Map(figuresOf(metas.get(r.metric_id)!, r)).get(x.atom) ?? null : null);
    // from the figure shown then, and from the true figure withheld then (when another value)
    const shownThen = figureOf(before.get(key));
    const withheldThen = figureOf(truthsThen.get(key));
    const from: Array<[number, boolean]> = [];
    if (shownThen !== null) from.push([shownThen, false]);
    if (withheldThen !== null && (shownThen === null || Math.abs(shownThen - withheldThen) > 1e-9)) from.push([withheldThen, true]);
    for (const [o, sinceWithheld] of from) {
      for (const sign of [1, -1] as const) {
        // Both go in even where the truth already settles one (a change of 0, or of the
        // threshold or more): leaving those out made the batch LPs of one 12,642-count
        // component take 405 s instead of 3.7 s (20,000-person demo, 12 referrals added).
        const truth = x.truth === null ? null : sign * (x.truth - o);
        const u = sys.vars.length;
        sys.vars.push({
          cell: x.cell, atom: x.atom, key: `${x.key}\u001fchange${sign > 0 ? '+' : '-'}${sinceWithheld ? `@${o}` : ''}`, truth,
          integer: x.integer, protect: true, lower: sign > 0 ? -o : -big, upper: sign > 0 ? Infinity : o, change: sign, ...(sinceWithheld ? { sinceWithheld } : {}),
        });
        // u - sign * x = -sign * o
        sys.rows.push({ vars: [u, xi], coefs: [1, -sign], lo: -sign * o, hi: -sign * o, relation: 'revision' });
        sys.relations.revision = (sys.relations.revision ?? 0) + 1;
      }
    }
  }
}

/** The whole people a cohort cell's member-months t allow: one whole window each. */
const peoplePinned = (t: number, people: PeopleRule) => ({ lo: Math.ceil(t / people.maxPerPerson - 1e-9), hi: Math.floor(t / people.minPerPerson + 1e-9) });

interface PeopleThen {
  lo: number;
  hi: number;
  sinceWithheld: boolean;
  /** The metric whose row gave it, or '' for the intersection of several. */
  from: string;
}

/**
 * What the attacker holds of the people behind a cohort cell then: for each row of the
 * cohort (every metric of its samePeople group, published now or not), the whole people
 * its member-months then allow, from the figures last shown (each row's own publication:
 * `before` keeps the last figures shown, which may be older for one row than for another)
 * and from the true figures the last publication withheld; and their intersection, where
 * they could all be of one publication (if they are not, the intersection only adds a
 * stricter check: more is withheld, nothing less).
 */
function peopleThen(cell: AuditRow, before: ReadonlyMap<string, AuditRow>, truthsThen: ReadonlyMap<string, AuditRow>, people: PeopleRule): PeopleThen[] {
  const group = people.samePeople.find((g) => g.includes(cell.metric_id)) ?? [cell.metric_id];
  const out: PeopleThen[] = [];
  for (const m of group) {
    const k = keyOf({ ...cell, metric_id: m });
    const shown = before.get(k)?.denominator;
    const truth = truthsThen.get(k)?.denominator;
    if (shown !== null && shown !== undefined && Number.isFinite(shown)) out.push({ ...peoplePinned(shown, people), sinceWithheld: false, from: m });
    if (truth !== null && truth !== undefined && Number.isFinite(truth) && truth !== shown) out.push({ ...peoplePinned(truth, people), sinceWithheld: true, from: m });
  }
  if (out.length > 1) {
    const lo = Math.max(...out.map((x) => x.lo));
    const hi = Math.min(...out.map((x) => x.hi));
    if (lo <= hi) out.push({ lo, hi, sinceWithheld: out.every((x) => x.sinceWithheld), from: '' });
  }
  // one check per interval (the first source that gives it)
  const byInterval = new Map<string, PeopleThen>();
  for (const x of out) if (x.lo <= x.hi && !byInterval.has(`${x.lo}..${x.hi}`)) byInterval.set(`${x.lo}..${x.hi}`, x);
  return [...byInterval.values()];
}

/**
 * Consecutive publications, the people behind person-time (routes 6 and 8 together), for a
 * cohort cell with a row shown now: the member-months shown now pin the people now (one
 * publication, so every shown row's interval holds at once), and the people then come from
 * peopleThen. A change proven inside 1..threshold-1 is a primary disclosure, even across
 * rows (pre shown now, post shown then: the attacker subtracts the one from the other). The
 * same row then is the row check's (its member-months moved by less than threshold x min).
 */
function peopleChangedShown(known: readonly AuditRow[], before: ReadonlyMap<string, AuditRow>, truthsThen: ReadonlyMap<string, AuditRow>, people: PeopleRule, T: number, shown: (r: AuditRow) => boolean,
  at: (r: AuditRow, relation: AuditRelation, message: string, extra?: Partial<AuditViolation>) => void) {
  const cohorts = new Map<string, AuditRow[]>();
  for (const r of known) {
    if (!people.metrics.includes(r.metric_id) || !shown(r) || r.denominator === null || !Number.isFinite(r.denominator)) continue;
    const k = peopleKey(people, r);
    const list = cohorts.get(k);
    if (list) list.push(r);
    else cohorts.set(k, [r]);
  }
  for (const rows of cohorts.values()) {
    const now = rows.map((r) => peoplePinned(r.denominator!, people));
    const lo = Math.max(...now.map((x) => x.lo));
    const hi = Math.min(...now.map((x) => x.hi));
    if (lo > hi) continue;
    const own = new Set(rows.map((r) => r.metric_id));
    for (const then of peopleThen(rows[0]!, before, truthsThen, people)) {
      if (then.from && own.has(then.from) && !then.sinceWithheld) continue;
      const [a, b] = [lo - then.hi, hi - then.lo];
      if ((a >= 1 && b <= T - 1) || (b <= -1 && a >= -(T - 1))) {
        for (const r of rows) at(r, 'primary', `people behind the person-time changed by ${a === b ? a : `${a}..${b}`} ${since(then)} (member-months now and then): a change in 1..${T - 1}`, { count: 'P', low: a, high: b });
      }
    }
  }
}

/**
 * Consecutive publications, the people behind person-time (route 6 with route 8): member-months
 * shown then pin the people then (one whole window each, [T / max, T / min]); member-months
 * withheld now but derivable pin the people now. Their difference is the change of a
 * protected count, so a cohort cell withheld now (every row of it) gets change variables
 * u = P - P_then and w = P_then - P for each interval peopleThen gives, as addChanges gives
 * counts. Where an interval holds two or more whole numbers, P_then is a variable within it.
 * A cohort cell with a row shown now is peopleChangedShown's.
 */
function addPeopleChanges(sys: LinearSystem, known: readonly AuditRow[], before: ReadonlyMap<string, AuditRow>, truthsThen: ReadonlyMap<string, AuditRow>, people: PeopleRule) {
  const pVars = new Map<string, number>();
  sys.vars.forEach((v, i) => {
    if (v.atom === 'P' && v.change === undefined && v.protect) pVars.set(v.key, i);
  });
  // the rows behind each people variable, and whether any of them is shown now
  const cohort = new Map<number, { rows: number[]; shown: boolean }>();
  known.forEach((r, i) => {
    if (!people.metrics.includes(r.metric_id)) return;
    const p = pVars.get(peopleKey(people, r));
    if (p === undefined) return;
    const c = cohort.get(p) ?? { rows: [], shown: false };
    c.rows.push(i);
    c.shown ||= sys.cells[i]!.shown !== null;
    cohort.set(p, c);
  });
  // a finite floor for w, far below any number of people then or now
  let big = 1000;
  for (const r of [...known, ...before.values(), ...truthsThen.values()]) if (r.denominator !== null && Number.isFinite(r.denominator)) big = Math.max(big, (10 * Math.abs(r.denominator)) / people.minPerPerson);
  for (const [pi, { rows, shown }] of cohort) {
    if (shown) continue;
    const x = sys.vars[pi]!;
    for (const { lo, hi, sinceWithheld } of peopleThen(known[rows[0]!]!, before, truthsThen, people)) {
      const tag = `@${lo}..${hi}${sinceWithheld ? '~' : ''}`;
      // P_then: a number where the member-months pin it, else a variable within them
      let then: number | null = null;
      if (lo < hi) {
        then = sys.vars.length;
        sys.vars.push({ cell: x.cell, atom: 'P', key: `${x.key}\u001fthen${tag}`, truth: null, integer: true, protect: false, lower: lo, upper: hi });
      }
      for (const sign of [1, -1] as const) {
        const u = sys.vars.length;
        sys.vars.push({
          cell: x.cell, atom: 'P', key: `${x.key}\u001fchange${sign > 0 ? '+' : '-'}${tag}`, truth: null, integer: true, protect: true,
          lower: sign > 0 ? -hi : -big, upper: sign > 0 ? Infinity : hi, change: sign, ...(sinceWithheld ? { sinceWithheld } : {}),
        });
        // u - sign * P + sign * P_then = 0
        if (then === null) sys.rows.push({ vars: [u, pi], coefs: [1, -sign], lo: -sign * lo, hi: -sign * lo, relation: 'revision' });
        else sys.rows.push({ vars: [u, pi, then], coefs: [1, -sign, sign], lo: 0, hi: 0, relation: 'revision' });
        sys.relations.revision = (sys.relations.revision ?? 0) + 1;
      }
    }
  }
}

const since = (v: { sinceWithheld?: boolean }) => (v.sinceWithheld ? 'since the last publication withheld it' : 'since the previous publication');

/** A shown row's protected figures: its atoms, and D (= N + C, or E + K) where the kind has it. */
function figuresOf(meta: MetricMeta, r: AuditRow): Array<[string, number | null]> {
  const { atoms, total } = atomsOf(meta.kind, meta.dollarNumerator);
  const values = atomValues(meta.kind, meta.dollarNumerator, r);
  const figures: Array<[string, number | null]> = atoms.map((a, k) => [a.type, values[k] ?? null]);
  if (total && values[0] != null && values[1] != null) figures.push(['D', (values[0] as number) + (values[1] as number)]);
  return figures;
}

function sameFigure(a: number | null | undefined, b: number | null | undefined): boolean {
  if (a === null || a === undefined || b === null || b === undefined) return (a ?? null) === (b ?? null);
  return Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a));
}

/** The system an audit builds, for tools that look inside it (tests, the suppressor's loop). */
export type { LinearSystem };

function round(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(2);
}
