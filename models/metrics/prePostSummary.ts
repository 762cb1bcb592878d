// The pre/post summary (metrics.md, Outcomes): per dimension and group, over the whole
// utilization span, ED visits and inpatient admissions in the 180 days before and after
// people's first referral, and the post/pre rate ratio with its exact conditional interval
// (R's two-sample poisson.test). No p-value: without a comparison group a "significant"
// fall would invite a causal reading that regression to the mean (referrals follow crises)
// and secular trend explain as well (issue 15). Reads the rolled-up fct_prepost aggregation.
import type { DuckDBConnection } from '@duckdb/node-api';
import { exec, sqlString } from '../duckdb.ts';
import { duckdbEngine, type SqlEngine } from '../engines/engine.ts';
import { poissonRateRatio } from '../stats/index.ts';
import { bulkTable, type BulkValue } from './bulk.ts';

const MEASURES = [
  { measure: 'ed_visits', pre: 'ed_pre', post: 'ed_post' },
  { measure: 'inpatient_admits', pre: 'inpatient_pre', post: 'inpatient_post' },
] as const;

interface Group {
  period_start: string;
  period_end: string;
  dimension: string;
  group_value: string;
  people: number;
  pre_member_months: number;
  post_member_months: number;
  ed_pre: number;
  ed_post: number;
  inpatient_pre: number;
  inpatient_post: number;
}

export async function buildPrePostSummary(
  conn: DuckDBConnection,
  opts: { runId: string; asOfSql: string; /** the rolled-up fct_prepost table, if any */ table?: string; /** where that table is (default: conn) */ engine?: SqlEngine },
): Promise<void> {
  const groups = opts.table
    ? await (opts.engine ?? duckdbEngine(conn)).rows<Group>(`SELECT period_start, period_end, dimension, group_value, people, pre_member_months, post_member_months,
  ed_pre, ed_post, inpatient_pre, inpatient_post
FROM ${opts.table} WHERE period_grain = 'all' AND people > 0`)
    : [];
  const out: BulkValue[][] = [];
  for (const g of groups) {
    for (const m of MEASURES) {
      const pre = Number(g[m.pre]);
      const post = Number(g[m.post]);
      const rr = poissonRateRatio(post, g.post_member_months, pre, g.pre_member_months);
      out.push([
        m.measure, g.period_start, g.period_end, g.dimension, g.group_value, g.people,
        pre, g.pre_member_months, post, g.post_member_months,
        (1000 * pre) / g.pre_member_months, (1000 * post) / g.post_member_months,
        rr?.ratio ?? null, rr?.low ?? null, rr?.high ?? null,
      ]);
    }
  }
  await bulkTable(conn, '_prepost_summary', [
    ['measure', 'VARCHAR'], ['period_start', 'VARCHAR'], ['period_end', 'VARCHAR'], ['dimension', 'VARCHAR'], ['group_value', 'VARCHAR'],
    ['people', 'DOUBLE'], ['pre_events', 'DOUBLE'], ['pre_member_months', 'DOUBLE'], ['post_events', 'DOUBLE'], ['post_member_months', 'DOUBLE'],
    ['pre_rate_per_1000', 'DOUBLE'], ['post_rate_per_1000', 'DOUBLE'], ['rate_ratio', 'DOUBLE'], ['rr_ci_low', 'DOUBLE'], ['rr_ci_high', 'DOUBLE'],
  ], out);
  await exec(conn, `CREATE OR REPLACE TABLE prepost_summary AS
SELECT measure, period_start::DATE AS period_start, period_end::DATE AS period_end, dimension, group_value,
  people::INTEGER AS people, pre_events, pre_member_months, post_events, post_member_months,
  pre_rate_per_1000, post_rate_per_1000, rate_ratio, rr_ci_low, rr_ci_high,
  ${sqlString(opts.runId)} AS run_id, ${opts.asOfSql} AS as_of
FROM _prepost_summary
ORDER BY measure, dimension = 'all' DESC, dimension, group_value`);
  await exec(conn, 'DROP TABLE _prepost_summary');
}
