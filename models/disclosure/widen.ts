// The suppressor's answer to the attacker (finalise.ts): for each count the independent
// audit could still prove inside 1..threshold-1, withhold more rows around it, so that the
// next round's pattern leaves the attacker room. Around a row means, in order of cost:
// the smallest shown groups of the same cut (same metric, period and dimension), the
// smallest shown periods of the same group under the same parent period, then, for a row
// that stays disclosed round after round, every shown row of its cut and of its group's
// periods, and finally the rows of other metrics with the same key (a count two metrics
// publish). This is the suppressor's own reasoning over the results table; it reads only
// which rows the audit reported, never how the audit derived them.
import type { DuckDBConnection } from '@duckdb/node-api';
import { rows } from '../duckdb.ts';
import type { AuditViolation } from './audit.ts';

interface Row {
  metric_id: string;
  period_grain: string;
  period_start: string;
  dimension: string;
  group_value: string;
  size: number | null;
  suppressed: boolean;
}

const key = (r: Pick<Row, 'metric_id' | 'period_grain' | 'period_start' | 'dimension' | 'group_value'>) =>
  [r.metric_id, r.period_grain, r.period_start, r.dimension, r.group_value].join('\u001f');

function parentOf(grain: string, start: string): string {
  if (grain === 'month') return `quarter:${start.slice(0, 5)}${String(Math.floor((Number(start.slice(5, 7)) - 1) / 3) * 3 + 1).padStart(2, '0')}`;
  if (grain === 'quarter') return `year:${start.slice(0, 4)}`;
  return 'all';
}

/** How many rounds each disclosed row has been reported in (the caller keeps it). */
export type Strikes = Map<string, number>;

/**
 * Adds to `forced` the rows to withhold next round around each disclosed row; returns how
 * many were added (0: nothing more to withhold).
 */
export async function widenAround(conn: DuckDBConnection, disclosed: readonly AuditViolation[], forced: Set<string>, strikes: Strikes, table = 'metric_results'): Promise<number> {
  const all = await rows<Row>(conn, `SELECT metric_id, period_grain, period_start::VARCHAR AS period_start, dimension, group_value,
  coalesce(denominator, numerator, value) AS size, coalesce(suppressed, false) AS suppressed FROM ${table}`);
  const byCut = new Map<string, Row[]>();
  const byGroup = new Map<string, Row[]>();
  const byKey = new Map<string, Row[]>();
  for (const r of all) {
    const cut = [r.metric_id, r.period_grain, r.period_start, r.dimension].join('\u001f');
    const grp = [r.metric_id, r.dimension, r.group_value, r.period_grain, parentOf(r.period_grain, r.period_start)].join('\u001f');
    const same = [r.period_grain, r.period_start, r.dimension, r.group_value].join('\u001f');
    for (const [m, k] of [[byCut, cut], [byGroup, grp], [byKey, same]] as const) {
      const list = m.get(k);
      if (list) list.push(r);
      else m.set(k, [r]);
    }
  }
  const shownBySize = (list: Row[] | undefined, self: string) =>
    (list ?? []).filter((r) => !r.suppressed && key(r) !== self && !forced.has(key(r))).sort((a, b) => (a.size ?? 0) - (b.size ?? 0) || (key(a) < key(b) ? -1 : 1));
  let added = 0;
  const add = (r: Row | undefined, primary = false) => {
    if (!r) return;
    // headline rows (everyone, by quarter, year or the whole span) are never withheld to
    // protect another count: a count they cannot be kept from disclosing is coarsened instead
    if (!primary && r.dimension === 'all' && r.period_grain !== 'month') return;
    const k = key(r);
    if (forced.has(k)) return;
    forced.add(k);
    added++;
  };
  for (const v of disclosed) {
    const self = key(v as unknown as Row);
    const strike = (strikes.get(self) ?? 0) + 1;
    strikes.set(self, strike);
    // a row shown with a small count (the primary rule the suppressor missed): withhold it
    if (v.relation === 'primary') {
      add({ ...(v as unknown as Row), size: null, suppressed: false }, true);
      continue;
    }
    const cut = shownBySize(byCut.get([v.metric_id, v.period_grain, v.period_start, v.dimension].join('\u001f')), self);
    const periods = shownBySize(byGroup.get([v.metric_id, v.dimension, v.group_value, v.period_grain, parentOf(v.period_grain, v.period_start)].join('\u001f')), self);
    const take = strike <= 1 ? 1 : strike === 2 ? 2 : Infinity;
    cut.slice(0, take).forEach((r) => add(r));
    periods.slice(0, take).forEach((r) => add(r));
    if (strike >= 3) shownBySize(byKey.get([v.period_grain, v.period_start, v.dimension, v.group_value].join('\u001f')), self).forEach((r) => add(r));
    if (strike >= 4) {
      // the group's other grains: the parent period, and the whole span
      for (const r of all) {
        if (r.metric_id === v.metric_id && r.dimension === v.dimension && r.group_value === v.group_value && !r.suppressed && key(r) !== self) add(r);
      }
    }
  }
  return added;
}
