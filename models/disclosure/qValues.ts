// q-values over the published comparisons only (issue 14, route 9): computed over every
// comparison of a family before suppression, a q-value reveals how many comparisons were
// withheld and where they rank. After suppression, each family's q-values are taken again
// over the comparisons still shown (those with a q-value: the default family's).
import type { DuckDBConnection } from '@duckdb/node-api';
import { exec, rows } from '../duckdb.ts';
import { benjaminiHochberg } from '../stats/index.ts';
import { bulkTable } from '../metrics/bulk.ts';

export async function publishedQValues(conn: DuckDBConnection, table = 'metric_results'): Promise<number> {
  const shown = await rows<{ metric_id: string; period_grain: string; period_start: string; dimension: string; group_value: string; p_value: number }>(conn,
    `SELECT metric_id, period_grain, period_start::VARCHAR AS period_start, dimension, group_value, p_value FROM ${table}
     WHERE q_value IS NOT NULL AND p_value IS NOT NULL AND NOT coalesce(suppressed, false)
     ORDER BY metric_id, period_grain, period_start, dimension, group_value`);
  const families = new Map<string, typeof shown>();
  for (const r of shown) {
    const k = `${r.metric_id}\u001f${r.period_grain}\u001f${r.period_start}`;
    const list = families.get(k);
    if (list) list.push(r);
    else families.set(k, [r]);
  }
  const out: Array<[string, string, string, string, string, number | null]> = [];
  for (const list of families.values()) {
    const q = benjaminiHochberg(list.map((r) => r.p_value));
    list.forEach((r, i) => out.push([r.metric_id, r.period_grain, r.period_start, r.dimension, r.group_value, q[i] ?? null]));
  }
  await bulkTable(conn, '_published_q', [['metric_id', 'VARCHAR'], ['period_grain', 'VARCHAR'], ['period_start', 'VARCHAR'], ['dimension', 'VARCHAR'], ['group_value', 'VARCHAR'], ['q', 'DOUBLE']], out);
  await exec(conn, `UPDATE ${table} AS t SET q_value = q.q FROM _published_q q
WHERE t.metric_id = q.metric_id AND t.period_grain = q.period_grain AND t.period_start = q.period_start::DATE AND t.dimension = q.dimension AND t.group_value = q.group_value`);
  await exec(conn, 'DROP TABLE _published_q');
  return out.length;
}
