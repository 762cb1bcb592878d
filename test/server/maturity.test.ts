// Issue 15: a provisional (or partial) period is never compared as final. The headline of
// a trend is its latest FINAL period, compared with the final period right before it, and
// labelled better or worse only when the change is significant.
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Row } from '../../models/duckdb.ts';
import { metricById } from '../../models/metrics/catalog.ts';
import { createApp, type App } from '../../server/app.ts';
import { headline } from '../../server/data/series.ts';
import { addTestUser, type TestUser } from '../helpers/auth.ts';
import { publishedFixture, type PublishedFixture } from '../helpers/publishedFixture.ts';

const q = (start: string, x: number, n: number, status: string, extra: Partial<Row> = {}): Row => ({
  metric_id: 'closed_loop_rate', period_grain: 'quarter', period_start: start, period_end: start, value: x / n, numerator: x, denominator: n,
  suppressed: false, period_status: status, ...extra,
});
const closed = metricById('closed_loop_rate');

describe('headline (hand-made rows)', () => {
  it('issue 15: a provisional quarter with a steep fall is neither headlined nor compared', () => {
    // Q3 is provisional: 10 of 100 so far (most of its referrals cannot have closed yet)
    const h = headline([q('2025-01-01', 49, 100, 'final'), q('2025-04-01', 41, 100, 'final'), q('2025-07-01', 10, 100, 'provisional')], closed);
    expect(h.latest?.period_start).toBe('2025-04-01');
    expect(h.previous?.period_start).toBe('2025-01-01');
    expect(h.provisional).toBe(1);
    // 41/100 vs 49/100: R prop.test(c(41, 49), c(100, 100), correct = FALSE) p = 0.2555
    expect(h.change).toMatchObject({ verdict: 'no_significant_change' });
    expect(h.change!.difference).toBeCloseTo(-0.08, 12);
    expect(h.change!.p).toBeCloseTo(0.255508820294029, 10);
  });

  it('a partial period (cut short by the start of the data) is never compared as full', () => {
    const h = headline([q('2024-10-01', 5, 100, 'partial'), q('2025-01-01', 49, 100, 'final')], closed);
    expect(h.latest?.period_start).toBe('2025-01-01');
    expect(h.previous).toBeNull();
    expect(h.change).toBeNull();
  });

  it('only neighbours are compared; nothing final, nothing headlined; a withheld period gives no change', () => {
    expect(headline([q('2025-01-01', 49, 100, 'final'), q('2025-07-01', 41, 100, 'final')], closed).previous).toBeNull();
    const none = headline([q('2025-01-01', 49, 100, 'provisional'), q('2025-04-01', 41, 100, 'provisional')], closed);
    expect(none).toMatchObject({ latest: null, previous: null, change: null, provisional: 2 });
    const withheld = headline([q('2025-01-01', 0, 0, 'final', { value: null, numerator: null, denominator: null, suppressed: true }), q('2025-04-01', 41, 100, 'final')], closed);
    expect(withheld.previous?.period_start).toBe('2025-01-01');
    expect(withheld.change).toBeNull();
  });
});

describe('the overview of a published run', () => {
  let fx: PublishedFixture;
  let app: App;
  let user: TestUser;
  beforeAll(async () => {
    fx = await publishedFixture();
    app = createApp({ root: fx.root, log: () => undefined });
    user = await addTestUser(fx.root, 'evaluator');
  });
  afterAll(() => {
    app.close();
    fx.cleanup();
  });

  it('issue 15: at every grain, every headline and its comparison are final periods, and a direction means p < 0.05', async () => {
    for (const grain of ['year', 'quarter', 'month']) {
      const r = await request(app).get(`/api/overview?grain=${grain}`).set('Authorization', `Bearer ${user.token}`);
      expect(r.status).toBe(200);
      for (const h of r.body.headlines as Array<{ metric: { id: string }; latest: Row | null; previous: Row | null; change: { verdict: string; p: number | null } | null; trend: Array<{ period_start: string; status: string }> }>) {
        const what = `${grain} ${h.metric.id}`;
        expect(h.latest?.period_status, what).toBe('final');
        if (h.previous) expect(h.previous.period_status, what).toBe('final');
        // nothing after the headline is final: it is the latest final period
        const after = h.trend.filter((p) => p.period_start > String(h.latest!.period_start));
        expect(after.every((p) => p.status !== 'final'), what).toBe(true);
        if (h.change && (h.change.verdict === 'better' || h.change.verdict === 'worse')) expect(h.change.p!, what).toBeLessThan(0.05);
      }
    }
  });
});
