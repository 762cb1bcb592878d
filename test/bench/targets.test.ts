// Issue 19's target table in `npm run bench`: each measure with this run's figure, the target
// and the verdict, on hand-picked figures whose ratios are worked out in the comments.
import { describe, expect, it } from 'vitest';
import type { ApiLoadResult } from '../../pipelines/bench/apiLoad.ts';
import { targetRows, targetTable, type SizeFigures } from '../../pipelines/bench/targets.ts';

const size = (s: string, full: number, raw: number, rssMb: number, changed: number, peer: number | null, moved = changed): SizeFigures => ({
  size: s, full_run: { median: full, peak_rss_mb: rssMb }, raw_duckdb_load: { median: raw },
  pandas_peer: peer === null ? null : { seconds: { median: peer } }, one_file_changed: { median: changed, share_of_full_run: changed / full },
  figures_moved: { median: moved, share_of_full_run: moved / full },
});
const load = (p99: number, rps: number, errors = 0) => ({ requests: 1, requests_per_second: rps, latency_ms: { p50: 1, p97_5: 1, p99, max: 1 }, errors, non_2xx: 0, timeouts: 0 });
const api = (p99: number, rps: number, errors = 0): ApiLoadResult & { size: string } => ({ size: 'L', connections: 50, seconds: 15, mix: load(p99, rps, errors), metrics_only: load(p99, rps) });

describe('bench: issue 19 target table', () => {
  it('judges each target on the run\'s own figures', () => {
    const rows = targetRows([
      // S: 3.9 s <= 4 s: met
      size('S', 3.9, 1, 500, 1, null),
      // M: 12 s / 4 s = 3.00x <= 3x: met; a changed file 1.8 s / 12 s = 15% <= 15%: met;
      // one whose figures move 6 s / 12 s = 50%: missed
      size('M', 12, 4, 800, 1.8, null, 6),
      // L: 60 / 15 = 4.00x: missed; 60 s against the peer's 30 s = 2.00x: missed; 2,100 MB = 2.05 GiB > 2 GiB: missed
      size('L', 60, 15, 2100, 9, 30),
    ], api(26, 5000));
    expect(rows.map((r) => [r.measure, r.measured, r.verdict])).toEqual([
      ['full run / raw DuckDB load, M (200k people)', '3.00x (12.0 s / 4.0 s)', 'met'],
      ['full run / raw DuckDB load, L (1M people)', '4.00x (60.0 s / 15.0 s)', 'missed'],
      ['full run at L vs the pandas peer\'s 4 metrics at L', '2.00x the peer\'s time (60.0 s / 30.0 s)', 'missed'],
      ['full run at S (20k people, the demo)', '3.9 s', 'met'],
      ['one extract changed, M (phq9.csv: copies of rows already loaded, no figure moves)', '15% (1.8 s / 12.0 s)', 'met'],
      ['one extract changed, M (referrals.csv: 12 referrals added, figures move)', '50% (6.0 s / 12.0 s)', 'missed'],
      ['peak RSS at L', '2.05 GiB', 'missed'],
      ['API p99 at >= 1,000 req/s (mixed pages), on L', '26 ms at 5000 req/s, 0 errors', 'met'],
    ]);
  });

  it('says which measures this run did not take, and a fast API with errors misses', () => {
    const rows = targetRows([size('S', 49.6, 0.7, 1008, 45.5, null)], api(20, 4000, 3));
    expect(rows.filter((r) => r.verdict === 'not measured').map((r) => r.measured)).toEqual([
      'not measured (--sizes=M)', 'not measured (--sizes=L)', 'not measured (--sizes=L)', 'not measured (--sizes=M)', 'not measured (--sizes=M)', 'not measured (--sizes=L)',
    ]);
    expect(rows.find((r) => r.measure.startsWith('full run at S'))).toMatchObject({ measured: '49.6 s', verdict: 'missed' });
    expect(rows.at(-1)!.verdict).toBe('missed');
    expect(targetTable(rows).split('\n')).toHaveLength(2 + 8);
  });
});
