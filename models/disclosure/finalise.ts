// The publish step after the metric engine (architecture.md, issue 14): the designed
// publication surface with fixed frames, disparity statistics on the true figures, then
// disclosure control over the whole results table until the attacker finds nothing:
//   1. the suppressor (suppress.ts) withholds small counts and their complements over the
//      relations it knows;
//   2. the independent audit (audit.ts), an attacker with every relation among the
//      published counts, finds what it can still prove inside 1..threshold-1;
//   3. the suppressor withholds more around each disclosed count, and 2 runs again,
// until the audit passes (or a publish is blocked). Then the derived figures: q-values
// over the published comparisons only, flags, the disparity summaries over shown groups,
// and the other published tables (curves, gap table, pre/post summary).
import type { DuckDBConnection } from '@duckdb/node-api';
import type { Config } from '../config.ts';
import { computeComparisons, hasDisparityStatistics, MIN_FAVOURABLE_DENOMINATOR, referenceConfig } from '../disparities/computeComparisons.ts';
import { buildDisparitySummary } from '../disparities/summaries.ts';
import { exec, rows, sqlString as str, tableExists } from '../duckdb.ts';
import { buildIntermediate } from '../intermediate/index.ts';
import { stageTable } from './columnar.ts';
import { settleAddedColumns } from '../metrics/afterSuppression.ts';
import { POPULATION_DIMENSIONS } from '../metrics/dimensions.ts';
import { windowMonthBounds } from '../metrics/windowMonths.ts';
import { cooccurrenceTies, readCooccurrence } from './attacker/ties.ts';
import { openEndedGroups } from './attacker/existence.ts';
import type { PeopleRule } from './attacker/system.ts';
import { auditResults, readAuditTable, type AuditReport } from './audit.ts';
import { previousKnown, readPrevious, showPendingRevisions, withheldBefore, writeHistory } from './revisions.ts';
import { metricMetaMap, type MetricInput, type MetricMeta } from './metricMeta.ts';
import { suppressOtherTables, type OtherTablesResult } from './otherTables.ts';
import { phaseOneKey, readPhaseOne, writePhaseOne, type PhaseOneState } from './phaseOne.ts';
import { publishedQValues } from './qValues.ts';
import { auditPartnerViews } from './partnerAudit.ts';
import { buildPartnerWithheld } from './partners.ts';
import { applyPublicationSurface, DEFAULT_PUBLICATION, type Publication, type SurfaceResult } from './surface.ts';
import { checkThreshold, suppress, type SuppressResult } from './suppress.ts';
import { widenAround, type Strikes } from './widen.ts';

export interface FinaliseOptions {
  metrics: readonly MetricInput[];
  config: Pick<Config, 'referenceGroups' | 'suppressionThreshold'> & { publication?: Publication };
  /** The run's as-of date and restricted ZIP3 list (to rebuild people's attributes for tied dimensions). */
  asOf?: string;
  restrictedZip3?: string[];
  /** Told as each step ends (progress lines of a run). */
  onPhase?: (phase: string, seconds: number) => void;
  /**
   * The previous published generation (a DuckDB file), when there is one: the attacker
   * holds it too, so no protected count may change by 1..threshold-1 between the two
   * (issue 14, consecutive publications; revisions.ts).
   */
  previous?: string;
  /**
   * The store's history (revisions.ts, writeHistory): the audit compares with the figures
   * last shown in any publication, not only the previous one, and with the true figures of
   * what the last publication did not show; this publication's are written to
   * `${history}.tmp` for the run to put in place once it is published.
   */
  history?: string;
}

export interface FinaliseResult {
  /** group-vs-reference comparisons computed (before suppression) */
  comparisons: number;
  /** results rows suppressed (primary + complementary + given) */
  suppressedRows: number;
  suppression: SuppressResult;
  surface: SurfaceResult;
  /** rounds of suppressor and attacker */
  rounds: number;
  /** rows of disparity_summary */
  summaries: number;
  /** rows that show the previous publication's figures, pending revision (0 without a previous publication) */
  pendingRevision: number;
  /** rows of partner_withheld: what partners' views withhold on top of the publication (partners.ts) */
  partnerWithheld: number;
  otherTables: OtherTablesResult;
  audit: AuditReport;
  /** Rounds of the first phase taken from the previous run, whose inputs were the same (phaseOne.ts); 0 when they ran. */
  replayedRounds: number;
  /** Attacker components decided over all rounds, and how many of them the memo answered (decided before). */
  auditComponents: { decided: number; reused: number };
  seconds: Record<'surface' | 'comparisons' | 'suppression' | 'summaries' | 'otherTables' | 'audit', number>;
}

/** Rounds of suppressor and attacker before a publish is blocked. */
const MAX_ROUNDS = 40;
/** Rounds that answer a disclosure by withholding more cells; later rounds remove the cut. */
const WIDEN_ROUNDS = 5;

/** A cut is not published when at most this share of its periods compares two shown groups. */
const MOSTLY_WITHHELD = 0.5;

const cutKey = (metric: string, grain: string, dimension: string) => [metric, grain, dimension].join('\u001f');

/** Whole-window person-time (pre/post referral): the people behind the member-months. */
export function peopleRule(metas: Map<string, MetricMeta>): PeopleRule | undefined {
  const ms = [...metas.values()].filter((m) => m.wholeWindowDays);
  if (!ms.length) return undefined;
  const { min, max } = windowMonthBounds(ms[0]!.wholeWindowDays!);
  // one cohort: the people with a first referral whose windows are both observed
  return { metrics: ms.map((m) => m.id), minPerPerson: min, maxPerPerson: max, samePeople: [ms.map((m) => m.id)] };
}

export async function finaliseResults(conn: DuckDBConnection, opts: FinaliseOptions): Promise<FinaliseResult> {
  const threshold = opts.config.suppressionThreshold;
  checkThreshold(threshold);
  const seconds = { surface: 0, comparisons: 0, suppression: 0, summaries: 0, otherTables: 0, audit: 0 };
  if (!(await tableExists(conn, 'metric_results'))) {
    // no metric engine output (e.g. a roster-only first drop): nothing is published, nothing to check
    return {
      comparisons: 0, suppressedRows: 0, summaries: 0, pendingRevision: 0, partnerWithheld: 0, seconds, rounds: 0, replayedRounds: 0, surface: { removed: 0, added: 0 },
      suppression: { rows: 0, relations: 0, suppressed: 0, given: 0, primary: 0, complementary: 0, withheldComparisons: 0, sharedQuantities: [] },
      otherTables: { kmCurvesWithheld: null, gapRowsWithheld: null, prepostRowsSuppressed: null },
      audit: { ok: true, rows: 0, relations: 0, violations: [] }, auditComponents: { decided: 0, reused: 0 },
    };
  }
  const timed = async <T>(phase: keyof typeof seconds, f: () => Promise<T>): Promise<T> => {
    const t = performance.now();
    try {
      return await f();
    } finally {
      seconds[phase] += (performance.now() - t) / 1000;
      opts.onPhase?.(phase, (performance.now() - t) / 1000);
    }
  };
  const metas = metricMetaMap(opts.metrics);
  const people = peopleRule(metas);
  // read first: the previous publication's groups stay in this one's frames (sticky frames)
  const previous = opts.previous ? await readPrevious(conn, opts.previous) : undefined;
  // what the attacker last saw of every row, from every publication (revisions.ts: the history)
  const known = previous ? await previousKnown(conn, previous, opts.history) : undefined;
  const surface = await timed('surface', () => applyPublicationSurface(conn, metas, opts.config.publication ?? DEFAULT_PUBLICATION, 'metric_results', known));
  const comparisons = await timed('comparisons', () => computeComparisons(conn, { metrics: opts.metrics, config: opts.config }));
  // the true figures, for the attacker's candidates and the rounds below
  await exec(conn, 'CREATE OR REPLACE TEMP TABLE _truth_results AS SELECT * FROM metric_results');
  const ties = await tiedDimensions(conn, metas, opts);
  const memo = { previous: await readAuditMemo(conn), next: new Map<string, string>() };
  // the truth and the previous publication do not change between rounds: read once
  const truthRows = await readAuditTable(conn, '_truth_results');
  const previousRows = known ? await readAuditTable(conn, known) : undefined;
  // the true figures of rows earlier publications withheld: their changes are protected too
  const withheldThen = previous ? await withheldBefore(conn, opts.history) : undefined;
  const withheldRows = withheldThen ? await readAuditTable(conn, withheldThen) : undefined;
  // dimensions compared with a named group; the others' most_favourable reference orders their groups (attacker/reference.ts)
  const named = new Set(referenceConfig(opts.config.referenceGroups ?? {}).filter(([, c]) => typeof c === 'object').map(([d]) => d));
  const favourable = { named, minDenominator: MIN_FAVOURABLE_DENOMINATOR, compared: new Set(opts.metrics.filter(hasDisparityStatistics).map((m) => m.id)) };
  // everything the first phase reads besides the true figures (phaseOne.ts): the same key, the same end
  const phaseOneInputs = {
    threshold, ties, people: people ?? null, named: [...named].sort(), minFavourable: MIN_FAVOURABLE_DENOMINATOR, compared: [...favourable.compared].sort(),
    earlierGroups: previousRows ? [...openEndedGroups(previousRows)].sort() : [], rounds: [MAX_ROUNDS, WIDEN_ROUNDS, MOSTLY_WITHHELD],
  };
  const phaseOneAt = await phaseOneKey(conn, '_truth_results', phaseOneInputs);
  const savedPhaseOne = previous ? await readPhaseOne(conn) : null;
  // a first phase that ended at the last round leaves none to audit the changes in: not taken
  const replay = savedPhaseOne?.key === phaseOneAt && savedPhaseOne.state.phaseStart < MAX_ROUNDS ? savedPhaseOne.state : null;
  let endOfPhaseOne: PhaseOneState | null = null;
  const auditComponents = { decided: 0, reused: 0 };
  const audited = (a: AuditReport) => {
    auditComponents.decided += a.attacker?.components ?? 0;
    auditComponents.reused += a.attacker?.reused ?? 0;
    return a;
  };

  let suppression: SuppressResult | null = null;
  let audit: AuditReport | null = null;
  let rounds = 0;
  // Rounds only ever add withheld rows (forced = everything withheld so far, plus what the
  // suppressor chooses around each disclosure), so a count shown safe stays safe (settled).
  const forced = new Set<string>();
  const strikes: Strikes = new Map();
  const settled = new Set<string>();
  // Cuts (metric, grain, dimension) taken out of the publication because withholding more
  // cells around a disclosed count did not protect it within WIDEN_ROUNDS: coarsening. A
  // cut removed removes its rows and relations, so every range only widens (monotone).
  const coarsened = new Map<string, string>();
  // Cuts the suppressor would mostly withhold inform no one and tie everything together:
  // not published (a first suppressor pass on the true figures decides).
  // the suppressor on the true figures, less the cuts removed, with everything withheld so far forced
  const suppressFromTruth = async () => {
    await exec(conn, 'CREATE OR REPLACE TABLE metric_results AS SELECT * FROM _truth_results');
    await removeCuts(conn, coarsened);
    await markGiven(conn, threshold, people, forced);
    return suppress(conn, { metrics: opts.metrics, threshold });
  };
  // Two phases: this publication alone first, then (with a previous publication) the
  // changes since it. Rows withheld in the first phase stay withheld (forced), so its
  // certificates stay valid (settled) and the second phase only has the changes to prove.
  let phaseStart = 0;
  let against: string | undefined;
  // whether an audit has had the previous publication in its system (the changes since it)
  let changesAudited = false;
  if (replay) {
    // the first phase's inputs are the previous run's: it ends where that run's did (phaseOne.ts)
    for (const k of replay.forced) forced.add(k);
    for (const [k, why] of replay.coarsened) coarsened.set(k, why);
    for (const k of replay.settled) settled.add(k);
    for (const [k, n] of replay.strikes) strikes.set(k, n);
    rounds = phaseStart = replay.phaseStart;
    against = previous;
    endOfPhaseOne = replay;
    // the memo keeps the decisions the skipped rounds took (only those: it must not grow run after run)
    for (const k of replay.memo) {
      const v = memo.previous.get(k);
      if (v !== undefined) memo.next.set(k, v);
    }
  } else {
    await timed('suppression', async () => {
      await suppressFromTruth();
      for (const c of await mostlyWithheldCuts(conn)) coarsened.set(cutKey(c.metric_id, c.period_grain, c.dimension), 'fewer than two groups could be shown in most periods');
    });
  }
  const phaseOneEnds = async () => {
    for (const k of await withheldKeys(conn)) forced.add(k);
    endOfPhaseOne = { forced: [...forced], coarsened: [...coarsened], settled: [...settled], strikes: [...strikes], phaseStart: rounds + 1, memo: [...memo.next.keys()] };
  };
  for (; rounds < MAX_ROUNDS; rounds++) {
    suppression = await timed('suppression', suppressFromTruth);
    // Rounds run the attacker without its exact (whole-component) solves: a count no local
    // certificate shows safe is treated as disclosed.
    audit = audited(await timed('audit', () => auditResults(conn, { metrics: opts.metrics, threshold, truthTable: truthRows, ties, people, favourable, exact: false, settled, previous: against ? previousRows : undefined, withheldBefore: against ? withheldRows : undefined, earlierFrames: previousRows, memo })));
    if (against) changesAudited = true;
    for (const k of audit.attacker?.certified ?? []) settled.add(k);
    const disclosed = audit.violations.filter((v) => v.relation === 'disclosure' || v.relation === 'primary');
    if (process.env.CLOSELOOP_TRACE_AUDIT) {
      // what each round found, by kind (the numbers blanked), for tuning the rounds
      const by = new Map<string, number>();
      for (const v of disclosed) {
        const k = `${v.relation} ${v.message.replace(/-?[0-9.]+/g, '#')}`;
        by.set(k, (by.get(k) ?? 0) + 1);
      }
      console.error(`round ${rounds}${against ? ' (changes since the previous publication)' : ''}: ${disclosed.length} disclosed; relations ${Object.entries(audit.attacker?.byRelation ?? {}).map(([k, n]) => `${k} ${n}`).join(', ')}; dropped as untrue ${Object.entries(audit.attacker?.dropped ?? {}).map(([k, n]) => `${k} ${n}`).join(', ') || 'none'}`);
      for (const [k, n] of [...by].sort((a, b) => b[1] - a[1]).slice(0, 8)) console.error(`  ${n} x ${k}`);
    }
    if (!disclosed.length && previous && !against) {
      await phaseOneEnds();
      against = previous;
      phaseStart = rounds + 1;
      continue;
    }
    if (!disclosed.length) {
      // a first publication: its end is the first phase's end of the next run with the same inputs
      if (!against) await phaseOneEnds();
      break;
    }
    const added = await timed('suppression', async () => {
      for (const k of await withheldKeys(conn)) forced.add(k);
      if (rounds - phaseStart + 1 < WIDEN_ROUNDS) {
        const more = await widenAround(conn, disclosed, forced, strikes);
        if (more > 0) return more;
        // nothing left to withhold around them (e.g. a headline row, which is never withheld
        // to protect another): coarsen now rather than end the rounds with a disclosure
      }
      // a shown small count is withheld; a cut whose withheld counts stay provable is removed
      const primary = disclosed.filter((v) => v.relation === 'primary');
      let n = primary.length ? await widenAround(conn, primary, forced, strikes) : 0;
      for (const v of disclosed) {
        if (v.relation !== 'disclosure') continue;
        const k = cutKey(v.metric_id, v.period_grain, v.dimension);
        if (!coarsened.has(k)) {
          coarsened.set(k, 'withholding more cells could not protect its small counts');
          n++;
        }
      }
      return n;
    });
    if (added === 0) break; // nothing more to withhold: the audit's verdict stands
  }
  // the last word: exactly, on the final pattern, what stays unproven
  // (a first phase that ended at the last round leaves the changes unaudited: audited here)
  if (!audit?.ok || (previous && !changesAudited)) audit = audited(await timed('audit', () => auditResults(conn, { metrics: opts.metrics, threshold, truthTable: truthRows, ties, people, favourable, settled, previous: previousRows, withheldBefore: withheldRows, earlierFrames: previousRows, memo })));
  await timed('suppression', async () => {
    await publishedQValues(conn);
    await settleAddedColumns(conn);
  });
  const summaries = await timed('summaries', () => buildDisparitySummary(conn, { metrics: opts.metrics }));
  const otherTables = await timed('otherTables', () => suppressOtherTables(conn, { metrics: opts.metrics, threshold }));
  const partnerWithheld = await timed('otherTables', () => buildPartnerWithheld(conn, '_truth_results'));
  const partnerLeaks = await timed('audit', () => auditPartnerViews(conn, '_truth_results', 'metric_results', { asOf: opts.asOf }));
  if (partnerLeaks.length) {
    const v = partnerLeaks[0]!;
    throw new Error(`disclosure control: ${partnerLeaks.length} figure(s) of an organisation a partner could derive from its view (e.g. partner ${v.partner}: ${v.org_id}'s ${v.metric_id} ${v.quantity}, from an area figure of ${v.area} less its own); nothing published`);
  }
  await writeAuditMemo(conn, memo.next);
  await writePhaseOne(conn, endOfPhaseOne ? { key: phaseOneAt, state: endOfPhaseOne } : null);
  const pendingRevision = previous ? await showPendingRevisions(conn, previous, known) : 0;
  if (opts.history) await writeHistory(conn, opts.history, '_truth_results');
  await exec(conn, 'DROP TABLE IF EXISTS _truth_results');
  // what was coarsened away, published so the dictionary and the pages can say why a cut is missing
  await exec(conn, `CREATE OR REPLACE TABLE withheld_cuts (metric_id VARCHAR, period_grain VARCHAR, dimension VARCHAR, reason VARCHAR)`);
  if (coarsened.size) {
    await exec(conn, `INSERT INTO withheld_cuts VALUES ${[...coarsened].map(([k, reason]) => {
      const [m, g, d] = k.split('\u001f');
      return `(${str(m!)}, ${str(g!)}, ${str(d!)}, ${str(reason)})`;
    }).join(', ')}`);
  }
  return {
    comparisons: comparisons.comparisons, suppressedRows: suppression!.suppressed, suppression: suppression!,
    surface: { ...surface, coarsened: [...coarsened.keys()].map((k) => { const [metric, grain, dimension] = k.split('\u001f'); return { metric: metric!, grain: grain!, dimension: dimension! }; }) },
    rounds: Math.min(rounds + 1, MAX_ROUNDS), replayedRounds: replay?.phaseStart ?? 0,
    summaries, pendingRevision, partnerWithheld, otherTables, audit: audit!, auditComponents, seconds,
  };
}

/**
 * Rows withheld before the suppressor's own rules: the people behind whole-window
 * person-time in 1..threshold-1 (member-months below threshold x the least a person can
 * add), and the rows earlier rounds chose (forced).
 */
async function markGiven(conn: DuckDBConnection, threshold: number, people: PeopleRule | undefined, forced: ReadonlySet<string>) {
  if (people) {
    await exec(conn, `UPDATE metric_results SET suppressed = true
WHERE metric_id IN (${people.metrics.map(str).join(', ')}) AND denominator > 0 AND floor(denominator / ${people.minPerPerson} + 1e-9) < ${threshold}`);
  }
  if (forced.size) {
    const keys = [...forced];
    await stageTable(conn, '_forced', keys.length, [{ name: 'k', type: 'VARCHAR', values: keys }]);
    await exec(conn, `UPDATE metric_results SET suppressed = true
WHERE concat_ws(chr(31), metric_id, period_grain, period_start::VARCHAR, dimension, group_value) IN (SELECT k FROM _forced)`);
    await exec(conn, 'DROP TABLE _forced');
  }
}

/**
 * Removes the coarsened cuts from the publication. A removed `all` cut takes every cut of
 * that metric at that grain with it (a group's rows would otherwise sum to the missing total).
 */
async function removeCuts(conn: DuckDBConnection, coarsened: ReadonlyMap<string, string>) {
  if (!coarsened.size) return;
  const cuts = [...coarsened.keys()].map((k) => k.split('\u001f'));
  const values = cuts.map(([m, g, d]) => `(${str(m!)}, ${str(g!)}, ${str(d!)})`).join(', ');
  await exec(conn, `DELETE FROM metric_results r USING (VALUES ${values}) c(metric_id, period_grain, dimension)
WHERE r.metric_id = c.metric_id AND r.period_grain = c.period_grain AND (r.dimension = c.dimension OR c.dimension = 'all')`);
}

/**
 * Cuts (metric, grain, dimension) that compare nothing in most of their periods: fewer than
 * two groups shown (for `all`: the row itself withheld) in at least half the periods with people.
 */
async function mostlyWithheldCuts(conn: DuckDBConnection) {
  return rows<{ metric_id: string; period_grain: string; dimension: string }>(conn, `WITH per AS (
  SELECT r.metric_id, r.period_grain, r.dimension, r.period_start, count(*) FILTER (WHERE NOT coalesce(r.suppressed, false)) AS shown
  FROM metric_results r JOIN _truth_results t USING (metric_id, period_grain, period_start, dimension, group_value)
  WHERE coalesce(t.denominator, t.value, t.numerator, 0) > 0
  GROUP BY ALL)
SELECT metric_id, period_grain, dimension FROM per GROUP BY ALL
HAVING avg((shown >= CASE WHEN dimension = 'all' THEN 1 ELSE 2 END)::INTEGER) <= ${MOSTLY_WITHHELD}
ORDER BY ALL`);
}

/**
 * The audit's decisions per component, kept in the warehouse (never published: they name
 * withheld counts and their ranges) for the next run: a component a change cannot touch
 * (issue 19) is not solved again. Only this run's components are kept, so the table does
 * not grow from run to run.
 */
async function readAuditMemo(conn: DuckDBConnection): Promise<Map<string, string>> {
  if (!(await tableExists(conn, 'audit_memo'))) return new Map();
  return new Map((await rows<{ k: string; v: string }>(conn, 'SELECT k, v FROM audit_memo')).map((r) => [r.k, r.v]));
}

async function writeAuditMemo(conn: DuckDBConnection, memo: ReadonlyMap<string, string>) {
  const entries = [...memo];
  await stageTable(conn, '_audit_memo', entries.length, [{ name: 'k', type: 'VARCHAR', values: entries.map(([k]) => k) }, { name: 'v', type: 'VARCHAR', values: entries.map(([, v]) => v) }]);
  await exec(conn, 'CREATE OR REPLACE TABLE audit_memo AS SELECT k, v FROM _audit_memo; DROP TABLE _audit_memo');
}

async function withheldKeys(conn: DuckDBConnection): Promise<string[]> {
  return (await rows<{ k: string }>(conn, `SELECT concat_ws(chr(31), metric_id, period_grain, period_start::VARCHAR, dimension, group_value) AS k
FROM metric_results WHERE coalesce(suppressed, false)`)).map((r) => r.k);
}

/** Dimensions tied to each other in the data (limited English and language, ZIP3 and county, ...). */
async function tiedDimensions(conn: DuckDBConnection, metas: Map<string, MetricMeta>, opts: FinaliseOptions) {
  if (!opts.asOf) return [];
  if (!(await tableExists(conn, 'stg_people'))) return [];
  await buildIntermediate(conn, { asOf: opts.asOf, restrictedZip3: opts.restrictedZip3 ?? [], only: new Set(['int_person_attributes']) });
  const cooc = await readCooccurrence(conn, POPULATION_DIMENSIONS);
  await exec(conn, 'DROP TABLE IF EXISTS int_person_attributes');
  const cells = await rows<{ metric_id: string; period_grain: string; period_start: string; dimension: string; group_value: string }>(conn,
    `SELECT metric_id, period_grain, period_start::VARCHAR AS period_start, dimension, group_value FROM metric_results WHERE dimension <> 'all' AND NOT contains(dimension, '*')`);
  return cooccurrenceTies(cells.map((c) => ({ ...c, shown: null })), metas, cooc);
}

