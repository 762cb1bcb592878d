// Regression: published_at as DuckDB prints a TIMESTAMPTZ ('2026-11-01 06:04:12+00') was
// unreadable to Date.parse, so a publish older than the limit was never reported stale.
import { describe, expect, it } from 'vitest';
import { parseTimestamp, staleness } from '../../server/routes/ops.ts';

describe('published_at with a bare +00 offset', () => {
  it('parses DuckDB and ISO timestamps to the same instant', () => {
    const iso = Date.UTC(2026, 10, 1, 6, 4, 12);
    expect(parseTimestamp('2026-11-01 06:04:12+00')).toBe(iso);
    expect(parseTimestamp('2026-11-01 06:04:12.000+00')).toBe(iso);
    expect(parseTimestamp('2026-11-01T06:04:12Z')).toBe(iso);
    expect(parseTimestamp('2026-11-01 08:04:12+02')).toBe(iso);
    expect(Number.isNaN(parseTimestamp('yesterday'))).toBe(true);
  });

  it('reports a publish 48 hours old as stale against a 36-hour limit', () => {
    const s = staleness({ run_id: 'r', as_of: '2026-10-31', published_at: '2026-11-01 06:00:00+00' }, { maxPublishedAgeHours: 36, maxAsOfAgeDays: 45 }, new Date('2026-11-03T06:00:00Z'));
    expect(s.published_age_hours).toBe(48);
    expect(s.stale).toBe(true);
    expect(s.reasons[0]).toBe('the last publish was 48.0 hours ago (limit 36 h): scheduled runs are failing or blocked');
  });
});
