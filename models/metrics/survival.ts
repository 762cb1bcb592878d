// Kaplan-Meier input as it comes from SQL, and an exact compaction of it. The estimates
// themselves are models/stats (kaplanMeierMedian, kaplanMeierCurve).
import type { CompetingRow, SurvivalRow } from '../stats/index.ts';

/** "time:events:censored,..." (survivalSql's string_agg) into rows. */
export function parseSurvival(s: string): SurvivalRow[] {
  return s.split(',').map((triple) => {
    const [time, events, censored] = triple.split(':').map(Number);
    return { time: time as number, events: events as number, censored: censored as number };
  });
}

/** "time:events:censored:competing,..." (survivalSql with a competing event) into rows. */
export function parseCompeting(s: string): CompetingRow[] {
  return s.split(',').map((quad) => {
    const [time, events, censored, competing] = quad.split(':').map(Number);
    return { time: time as number, events: events as number, censored: censored as number, competing: competing as number };
  });
}

/**
 * Moves cases censored at a time without events onto the preceding event time (after its
 * events: they are at risk there either way) and merges those before the first event.
 * Survival and its Greenwood variance at every event time are unchanged, and the median and
 * its interval with them: R's quantile rule ignores points that repeat the previous value,
 * which is all a censoring-only time adds. The last time is kept as it is, because a curve
 * that ends at exactly 0.5 takes the midpoint up to it. Rows must be sorted by time.
 */
export function compactSurvival(rows: readonly SurvivalRow[]): SurvivalRow[] {
  const out: SurvivalRow[] = [];
  rows.forEach((row, i) => {
    const last = out[out.length - 1];
    if (row.events > 0 || last === undefined || i === rows.length - 1) out.push({ ...row });
    else last.censored += row.censored;
  });
  return out;
}
