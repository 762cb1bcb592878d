// A child process timed the way every bench figure is: wall time, and peak RSS from
// GNU time's -v report when /usr/bin/time is present (null otherwise).
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync } from 'node:fs';

export interface TimedChild {
  seconds: number;
  peakRssMb: number | null;
  result: SpawnSyncReturns<string>;
}

export function timedSpawn(command: string, args: string[]): TimedChild {
  const useTime = existsSync('/usr/bin/time');
  const t = performance.now();
  const result = useTime
    ? spawnSync('/usr/bin/time', ['-v', command, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 })
    : spawnSync(command, args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  const seconds = (performance.now() - t) / 1000;
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(result.stderr ?? '');
  return { seconds, peakRssMb: rss ? Number(rss[1]) / 1024 : null, result };
}
