// Issue 19's targets, judged on the figures of one bench run: each measure, the figure
// this run measured, the target, and whether it was met. Ratios come from one run (the
// full run and the raw load, or the peer, measured back to back), since absolute times
// vary on a shared machine. A measure at a size this run did not measure says so.
import type { ApiLoadResult } from './apiLoad.ts';

export interface SizeFigures {
  size: string;
  full_run: { median: number; peak_rss_mb: number };
  raw_duckdb_load: { median: number };
  pandas_peer: { seconds: { median: number } } | null;
  one_file_changed: { median: number; share_of_full_run: number };
  figures_moved?: { median: number; share_of_full_run: number };
}

export interface TargetRow {
  measure: string;
  measured: string;
  target: string;
  verdict: 'met' | 'missed' | 'not measured';
}

const GiB = 1024;

export function targetRows(results: readonly SizeFigures[], api: (ApiLoadResult & { size: string }) | null): TargetRow[] {
  const at = (size: string) => results.find((r) => r.size === size);
  const notMeasured = (measure: string, target: string, how: string): TargetRow => ({ measure, measured: `not measured (${how})`, target, verdict: 'not measured' });
  const row = (measure: string, target: string, value: number | undefined, shown: (v: number) => string, ok: (v: number) => boolean, how: string): TargetRow =>
    value === undefined ? notMeasured(measure, target, how) : { measure, measured: shown(value), target, verdict: ok(value) ? 'met' : 'missed' };
  const ratio = (r: SizeFigures | undefined) => (r ? r.full_run.median / r.raw_duckdb_load.median : undefined);
  const M = at('M');
  const L = at('L');
  const S = at('S');
  return [
    row('full run / raw DuckDB load, M (200k people)', '<= 3x', ratio(M), (v) => `${v.toFixed(2)}x (${M!.full_run.median.toFixed(1)} s / ${M!.raw_duckdb_load.median.toFixed(1)} s)`, (v) => v <= 3, '--sizes=M'),
    row('full run / raw DuckDB load, L (1M people)', '<= 3x', ratio(L), (v) => `${v.toFixed(2)}x (${L!.full_run.median.toFixed(1)} s / ${L!.raw_duckdb_load.median.toFixed(1)} s)`, (v) => v <= 3, '--sizes=L'),
    L && !L.pandas_peer
      ? notMeasured('full run at L vs the pandas peer\'s 4 metrics at L', 'no slower than the peer', 'without --no-peer')
      : row('full run at L vs the pandas peer\'s 4 metrics at L', 'no slower than the peer', L ? L.full_run.median / L.pandas_peer!.seconds.median : undefined,
        (v) => `${v.toFixed(2)}x the peer's time (${L!.full_run.median.toFixed(1)} s / ${L!.pandas_peer!.seconds.median.toFixed(1)} s)`, (v) => v <= 1, '--sizes=L'),
    row('full run at S (20k people, the demo)', '<= 4 s', S?.full_run.median, (v) => `${v.toFixed(1)} s`, (v) => v <= 4, '--sizes=S'),
    row('one extract changed, M (phq9.csv: copies of rows already loaded, no figure moves)', '<= 15% of a full run', M?.one_file_changed.share_of_full_run, (v) => `${(v * 100).toFixed(0)}% (${M!.one_file_changed.median.toFixed(1)} s / ${M!.full_run.median.toFixed(1)} s)`, (v) => v <= 0.15, '--sizes=M'),
    row('one extract changed, M (referrals.csv: 12 referrals added, figures move)', '<= 15% of a full run', M?.figures_moved?.share_of_full_run, (v) => `${(v * 100).toFixed(0)}% (${M!.figures_moved!.median.toFixed(1)} s / ${M!.full_run.median.toFixed(1)} s)`, (v) => v <= 0.15, '--sizes=M'),
    row('peak RSS at L', '<= 2 GiB', L?.full_run.peak_rss_mb, (v) => `${(v / GiB).toFixed(2)} GiB`, (v) => v <= 2 * GiB, '--sizes=L'),
    api
      ? { measure: `API p99 at >= 1,000 req/s (mixed pages), on ${api.size}`, measured: `${api.mix.latency_ms.p99} ms at ${api.mix.requests_per_second.toFixed(0)} req/s, ${api.mix.errors + api.mix.timeouts + api.mix.non_2xx} errors`, target: 'keep <= 50 ms',
        verdict: api.mix.latency_ms.p99 <= 50 && api.mix.requests_per_second >= 1000 && api.mix.errors + api.mix.timeouts + api.mix.non_2xx === 0 ? 'met' : 'missed' }
      : notMeasured('API p99 at >= 1,000 req/s (mixed pages)', 'keep <= 50 ms', 'without --no-api'),
  ];
}

export function targetTable(rows: readonly TargetRow[]): string {
  return ['| measure | this run | target | |', '|---|---|---|---|', ...rows.map((r) => `| ${r.measure} | ${r.measured} | ${r.target} | ${r.verdict} |`)].join('\n');
}
