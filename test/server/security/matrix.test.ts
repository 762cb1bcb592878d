// The authorization matrix: every endpoint x every role (and nobody), with the partner
// (bound to ORG-04) asking for its own organization and for another (ORG-07) through
// every parameter and path. The expected outcomes are written out here by hand, from
// issue 7 and the README's "Security model", never read from the server's policy table:
//
//   evaluator  all aggregate dashboards and exports, the data-quality page
//   staff      aggregate dashboards, metric reports, any organization's gap analysis
//   partner    its own scorecard and gap analysis, area aggregates; never another
//              organization's figures or comparisons with them (403)
//   admin      users, audit log, runs and data quality; no figures
//   nobody     401 on the API, 303 to the sign-in page for pages
//
// Every 2xx a partner gets is also searched for the other organizations' ids, names and
// program names: none may appear, whatever the endpoint.
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../../server/app.ts';
import { addTestUser, binaryAs, type TestUser } from '../../helpers/auth.ts';
import { FIXTURE, publishedFixture, type PublishedFixture } from '../../helpers/publishedFixture.ts';

const OK = 200;
const DENY = 403;
const ANON = 401;
const SIGNIN = 303;
const BAD = 400;
const NOPE = 404;

type Who = 'nobody' | 'evaluator' | 'staff' | 'partner' | 'admin';
const WHO: Who[] = ['nobody', 'evaluator', 'staff', 'partner', 'admin'];

// path, then the expected status for: nobody, evaluator, staff, partner (ORG-04), admin
type Row = [path: string, nobody: number, evaluator: number, staff: number, partner: number, admin: number];

const MATRIX: Row[] = [
  // What the figures are (no figures): every signed-in role.
  ['/api', ANON, OK, OK, OK, OK],
  ['/api/run', ANON, OK, OK, OK, OK],
  ['/api/metrics', ANON, OK, OK, OK, OK],
  ['/api/filters', ANON, OK, OK, OK, OK],
  ['/api/dictionary', ANON, OK, OK, OK, OK],
  ['/api/dictionary?format=markdown', ANON, OK, OK, OK, OK],
  ['/api/charts', ANON, OK, OK, OK, OK],
  ['/api/session', ANON, OK, OK, OK, OK],
  ['/api/health', OK, OK, OK, OK, OK],
  ['/healthz', OK, OK, OK, OK, OK],
  ['/signin', OK, OK, OK, OK, OK],

  // Area aggregates: evaluator, staff, partner; not admin.
  ['/api/metrics/closed_loop_rate?dimension=race_ethnicity', ANON, OK, OK, OK, DENY],
  ['/api/metrics/closed_loop_rate', ANON, OK, OK, OK, DENY],
  ['/api/metrics/closed_loop_rate?grain=all&dimension=program_id&group=ACO-02', ANON, OK, OK, OK, DENY],
  ['/api/overview', ANON, OK, OK, OK, DENY],
  ['/api/story', ANON, OK, OK, OK, DENY],
  ['/api/overview?program=ACO-01&grain=year', ANON, OK, OK, OK, DENY],
  ['/api/km', ANON, OK, OK, OK, DENY],
  ['/api/km?dimension=race_ethnicity', ANON, OK, OK, OK, DENY],
  ['/api/gaps', ANON, OK, OK, OK, DENY],
  ['/api/gaps?domain=food&county=37183', ANON, OK, OK, OK, DENY],
  ['/api/gaps.csv', ANON, OK, OK, OK, DENY],
  ['/api/gaps.csv?domain=food&county=37183&bom=true', ANON, OK, OK, OK, DENY],
  ['/api/disparities?metric=closed_loop_rate&dimension=race_ethnicity', ANON, OK, OK, OK, DENY],
  ['/api/phq9?dimension=payer', ANON, OK, OK, OK, DENY],
  ['/api/prepost', ANON, OK, OK, OK, DENY],
  ['/api/evaluation', ANON, OK, OK, OK, DENY],
  ['/api/charts/event-study.csv?outcome=ed_visits', ANON, OK, OK, OK, DENY],
  ['/api/freshness', ANON, OK, OK, OK, OK],
  ['/api/charts/trend.json?metric=closed_loop_rate&grain=quarter', ANON, OK, OK, OK, DENY],
  ['/api/charts/trend.csv?metric=closed_loop_rate&grain=quarter', ANON, OK, OK, OK, DENY],
  ['/api/charts/funnel.json', ANON, OK, OK, OK, DENY],
  ['/api/charts/gap-heatmap.json', ANON, OK, OK, OK, DENY],
  ['/api/charts/demand-capacity.csv', ANON, OK, OK, OK, DENY],
  ['/api/charts/gap-map.json?domain=food', ANON, OK, OK, OK, DENY],
  ['/api/charts/forest.json?metric=closed_loop_rate&dimension=race_ethnicity', ANON, OK, OK, OK, DENY],
  ['/api/charts/km.json?dimension=race_ethnicity', ANON, OK, OK, OK, DENY],

  // Cuts by organization: evaluator and staff see every organization; the partner its own row only.
  ['/api/metrics/closed_loop_rate?dimension=target_org_id', ANON, OK, OK, OK, DENY],
  ['/api/metrics/closed_loop_rate?dimension=target_org_id&grain=quarter', ANON, OK, OK, OK, DENY],
  ['/api/metrics/closed_loop_rate?dimension=target_org_id&group=ORG-04', ANON, OK, OK, OK, DENY],
  ['/api/metrics/closed_loop_rate?dimension=target_org_id&group=ORG-07', ANON, OK, OK, DENY, DENY],
  ['/api/metrics/closed_loop_rate?group=ORG-07', ANON, OK, OK, DENY, DENY],
  ['/api/metrics/closed_loop_rate?grain=all&group=ORG-07', ANON, OK, OK, DENY, DENY],
  ['/api/km?metric=days_to_close&dimension=target_org_id', ANON, OK, OK, OK, DENY],
  ['/api/km?metric=days_to_close&dimension=target_org_id&group=ORG-04', ANON, OK, OK, OK, DENY],
  ['/api/km?metric=days_to_close&dimension=target_org_id&group=ORG-07', ANON, OK, OK, DENY, DENY],
  ['/api/scorecards', ANON, OK, OK, OK, DENY],
  ['/api/scorecards?grain=year', ANON, OK, OK, OK, DENY],
  ['/api/partners', ANON, OK, OK, OK, DENY],
  ['/api/charts/scorecard.json', ANON, OK, OK, OK, DENY],
  ['/api/charts/scorecard.csv', ANON, OK, OK, OK, DENY],
  ['/api/charts/trend.json?metric=closed_loop_rate&dimension=target_org_id&grain=year', ANON, OK, OK, OK, DENY],
  ['/api/charts/trend.csv?metric=closed_loop_rate&dimension=target_org_id&grain=year', ANON, OK, OK, OK, DENY],
  ['/api/charts/km.json?metric=days_to_close&dimension=target_org_id', ANON, OK, OK, OK, DENY],
  ['/api/charts/km.csv?metric=days_to_close&dimension=target_org_id', ANON, OK, OK, OK, DENY],
  // Comparisons between organizations cannot be narrowed: no partner sees them.
  ['/api/disparities?metric=closed_loop_rate&dimension=target_org_id', ANON, OK, OK, DENY, DENY],
  ['/api/disparities?metric=referral_acceptance_rate&dimension=target_org_id&grain=year', ANON, OK, OK, DENY, DENY],
  ['/api/charts/forest.json?metric=closed_loop_rate&dimension=target_org_id', ANON, OK, OK, DENY, DENY],
  ['/api/charts/forest.csv?metric=closed_loop_rate&dimension=target_org_id', ANON, OK, OK, DENY, DENY],

  // One organization's own outputs, by path: the partner's own (ORG-04) and another's (ORG-07).
  ['/api/partners/ORG-04/scorecard', ANON, OK, OK, OK, DENY],
  ['/api/partners/ORG-04/scorecard?grain=year', ANON, OK, OK, OK, DENY],
  ['/api/partners/ORG-04/gap-analysis.json', ANON, OK, OK, OK, DENY],
  ['/api/partners/ORG-04/gap-analysis.csv', ANON, OK, OK, OK, DENY],
  ['/api/partners/ORG-04/gap-analysis.xlsx', ANON, OK, OK, OK, DENY],
  ['/api/partners/ORG-07/scorecard', ANON, OK, OK, DENY, DENY],
  ['/api/partners/ORG-07/gap-analysis.json', ANON, OK, OK, DENY, DENY],
  ['/api/partners/ORG-07/gap-analysis.csv', ANON, OK, OK, DENY, DENY],
  ['/api/partners/ORG-07/gap-analysis.xlsx', ANON, OK, OK, DENY, DENY],
  // ... spelled otherwise: percent-encoded, another case, a trailing slash, an organization that does not exist.
  ['/api/partners/ORG%2D07/scorecard', ANON, OK, OK, DENY, DENY],
  ['/API/PARTNERS/ORG-07/scorecard', ANON, OK, OK, DENY, DENY],
  ['/api/partners/ORG-07/scorecard/', ANON, OK, OK, DENY, DENY],
  ['/api/partners/org-07/scorecard', ANON, NOPE, NOPE, DENY, DENY],
  ['/api/partners/ORG-99/gap-analysis.csv', ANON, NOPE, NOPE, DENY, DENY],
  // ... and as query parameters no endpoint takes (a 400 for everyone: the organization never comes from the request).
  ['/api/gaps?org=ORG-07', ANON, BAD, BAD, BAD, BAD],
  ['/api/scorecards?org_id=ORG-07', ANON, BAD, BAD, BAD, BAD],
  ['/api/partners/ORG-04/gap-analysis.csv?org=ORG-07', ANON, BAD, BAD, BAD, BAD],

  // Operational counts: evaluator and admin.
  ['/api/quality', ANON, OK, DENY, DENY, OK],
  ['/api/runs', ANON, OK, DENY, DENY, OK],
  ['/api/runs?limit=1', ANON, OK, DENY, DENY, OK],
  ['/api/charts/quarantine.json', ANON, OK, DENY, DENY, OK],
  // ... drawn, never exported (issue 14): the chart files other than JSON are refused to every role.
  ['/api/charts/freshness.csv', ANON, DENY, DENY, DENY, DENY],
  ['/api/charts/quarantine.csv', ANON, DENY, DENY, DENY, DENY],
  ['/api/charts/quarantine.png', ANON, DENY, DENY, DENY, DENY],

  // Metric reports: evaluator and staff.
  ['/api/exports/report.csv?grain=year', ANON, OK, OK, DENY, DENY],
  ['/api/exports/report.csv?grain=year&dimension=target_org_id', ANON, OK, OK, DENY, DENY],
  ['/api/exports/report.csv?grain=all&program=ACO-01', ANON, OK, OK, DENY, DENY],

  // Exports of the results table: evaluator only (also with every filter a partner might try).
  ['/api/exports/metrics/closed_loop_rate.csv', ANON, OK, DENY, DENY, DENY],
  ['/api/exports/metrics/closed_loop_rate.json?grain=all', ANON, OK, DENY, DENY, DENY],
  ['/api/exports/metrics/closed_loop_rate.csv?dimension=target_org_id', ANON, OK, DENY, DENY, DENY],
  ['/api/exports/metrics/all.csv?grain=all&dimension=target_org_id', ANON, OK, DENY, DENY, DENY],
  ['/api/exports/metrics/closed_loop_rate.xlsx?grain=year&dimension=payer', ANON, OK, DENY, DENY, DENY],

  // Administration: admin only.
  ['/api/admin/users', ANON, DENY, DENY, DENY, OK],
  ['/api/admin/audit', ANON, DENY, DENY, DENY, OK],
  ['/api/admin/audit?kind=signin&limit=5', ANON, DENY, DENY, DENY, OK],

  // Pages: nobody is sent to sign in.
  ['/', SIGNIN, OK, OK, OK, DENY],
  ['/access', SIGNIN, OK, OK, OK, DENY],
  ['/closed-loop', SIGNIN, OK, OK, OK, DENY],
  ['/closed-loop?grain=year&dimension=target_org_id', SIGNIN, OK, OK, OK, DENY],
  ['/service-gaps', SIGNIN, OK, OK, OK, DENY],
  ['/service-gaps?org=ORG-07', SIGNIN, OK, OK, OK, DENY],
  ['/outcomes', SIGNIN, OK, OK, OK, DENY],
  ['/evaluation', SIGNIN, OK, OK, OK, DENY],
  ['/disparities', SIGNIN, OK, OK, OK, DENY],
  ['/report', SIGNIN, OK, OK, OK, DENY],
  ['/data-quality', SIGNIN, OK, DENY, DENY, OK],
  ['/dictionary', SIGNIN, OK, OK, OK, OK],
  ['/admin', SIGNIN, DENY, DENY, DENY, OK],
];

let fx: PublishedFixture;
let app: App;
const users = {} as Record<Exclude<Who, 'nobody'>, TestUser>;

const OWN = 'ORG-04';
const others = FIXTURE.orgs.filter((o) => o.id !== OWN);
/** Names a partner's responses may never carry: other organizations' ids, names and program names. */
const FORBIDDEN = [
  ...others.map((o) => o.id),
  ...others.map((o) => o.name.replace(/^=/, '')),
  'Community Food Pantry Network', 'Rides to Care', 'Utility Bill Assistance', 'Safety Planning', 'Job Readiness',
];

beforeAll(async () => {
  fx = await publishedFixture();
  app = createApp({ root: fx.root, log: () => undefined });
  users.evaluator = await addTestUser(fx.root, 'evaluator');
  users.staff = await addTestUser(fx.root, 'staff');
  users.partner = await addTestUser(fx.root, 'partner', { org: OWN });
  users.admin = await addTestUser(fx.root, 'admin');
});
afterAll(() => {
  app.close();
  fx.cleanup();
});

async function bodyText(r: { headers: Record<string, string>; body: unknown }): Promise<string> {
  const type = r.headers['content-type'] ?? '';
  const buf = Buffer.isBuffer(r.body) ? r.body : Buffer.from(JSON.stringify(r.body ?? ''));
  if (type.includes('spreadsheetml')) {
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(buf as unknown as ArrayBuffer);
    return JSON.stringify(wb.worksheets.map((w) => w.getSheetValues()));
  }
  return buf.toString('utf8');
}

describe('authorization matrix', () => {
  it(`covers ${MATRIX.length} endpoints x ${WHO.length} callers = ${MATRIX.length * WHO.length} cases`, () => {
    expect(new Set(MATRIX.map((r) => r[0])).size).toBe(MATRIX.length);
  });

  for (const row of MATRIX) {
    const [path, ...expected] = row;
    describe(path, () => {
      WHO.forEach((who, i) => {
        const want = expected[i]!;
        it(`${who}: ${want}`, async () => {
          const r = await binaryAs(app, who === 'nobody' ? null : users[who], path);
          expect(r.status, `${who} ${path}: ${r.status} ${Buffer.isBuffer(r.body) ? r.body.toString('utf8').slice(0, 200) : ''}`).toBe(want);
          if (want === SIGNIN) expect(r.headers.location).toMatch(/^\/signin(\?next=%2F[a-z-]*(%3F[A-Za-z0-9%_.-]*)?)?$/);
          if (want === ANON) expect(JSON.parse(r.body.toString('utf8'))).toMatchObject({ status: 401, reason: 'unauthenticated' });
          if (want === DENY) {
            expect(JSON.parse(r.body.toString('utf8'))).toMatchObject({ status: 403, reason: 'forbidden' });
            expect(r.headers['content-disposition']).toBeUndefined();
          }
          if (who === 'partner' && want === OK) {
            const text = await bodyText(r);
            for (const name of FORBIDDEN) expect(text, `${path} carries ${name}`).not.toContain(name);
          }
        });
      });
    });
  }
});

describe('what a partner sees where it is let in (narrowed to its own organization)', () => {
  const json = async (who: Exclude<Who, 'nobody'>, path: string) => {
    const r = await binaryAs(app, users[who], path);
    expect(r.status, path).toBe(200);
    return JSON.parse(r.body.toString('utf8'));
  };
  // disparity_flag_unadjusted (issue 15) compares with the reference organization as much as the adjusted flag does
  const COMPARISONS = ['reference_group', 'rate_difference', 'rd_ci_low', 'rd_ci_high', 'rate_ratio', 'rr_ci_low', 'rr_ci_high', 'p_value', 'q_value', 'disparity_flag', 'disparity_flag_unadjusted'];

  it('results cut by organization: its own group only, comparison statistics withheld', async () => {
    const all = await json('evaluator', '/api/metrics/closed_loop_rate?dimension=target_org_id&grain=all');
    expect(new Set(all.rows.map((x: { group_value: string }) => x.group_value)).size).toBe(FIXTURE.orgs.length);
    expect(all.rows.some((x: { rate_ratio: number | null }) => x.rate_ratio !== null)).toBe(true);
    const mine = await json('partner', '/api/metrics/closed_loop_rate?dimension=target_org_id&grain=all');
    expect(mine.rows.map((x: { group_value: string }) => x.group_value)).toEqual([OWN]);
    const own = all.rows.find((x: { group_value: string }) => x.group_value === OWN);
    expect(mine.rows[0]).toMatchObject({ value: own.value, numerator: own.numerator, denominator: own.denominator });
    // what the evaluator sees of it: compared with another organization, the unadjusted flag included
    expect(own.disparity_flag_unadjusted).not.toBeNull();
    for (const c of COMPARISONS) expect(mine.rows[0][c], c).toBeNull();
  });

  it('results of every cut at once: area cuts unchanged, the organization cut narrowed', async () => {
    const all = await json('evaluator', '/api/metrics/closed_loop_rate?grain=all');
    const mine = await json('partner', '/api/metrics/closed_loop_rate?grain=all');
    const orgRows = (rows: Array<{ dimension: string }>) => rows.filter((x) => x.dimension === 'target_org_id');
    expect(orgRows(mine.rows)).toHaveLength(1);
    expect(mine.rows.length).toBe(all.rows.length - orgRows(all.rows).length + 1);
    const race = (rows: Array<{ dimension: string }>) => rows.filter((x) => x.dimension === 'race_ethnicity');
    expect(race(mine.rows)).toEqual(race(all.rows));
  });

  it('scorecards: its own row beside the area, nobody else\'s', async () => {
    const s = await json('partner', '/api/scorecards');
    expect(new Set(s.cells.map((c: { org_id: string }) => c.org_id))).toEqual(new Set([OWN]));
    expect(s.measures.some((m: { area: number | null }) => m.area !== null)).toBe(true);
    const chart = await json('partner', '/api/charts/scorecard.json');
    expect(new Set(chart.table.rows.map((c: { org: string }) => c.org))).toEqual(new Set(['Homes First NC, Inc.']));
  });

  it('survival curves and trends by organization: its own curve (and the area\'s line)', async () => {
    const km = await json('partner', '/api/km?metric=days_to_close&dimension=target_org_id');
    expect(km.rows.length).toBeGreaterThan(0);
    expect(new Set(km.rows.map((x: { group_value: string }) => x.group_value))).toEqual(new Set([OWN]));
    const trend = await json('partner', '/api/charts/trend.json?metric=closed_loop_rate&dimension=target_org_id&grain=year');
    // its own line labelled with its name (the labels table), beside the area's
    expect(new Set(trend.table.rows.map((x: { series: string }) => x.series))).toEqual(new Set(['Homes First NC, Inc.', 'Everyone']));
  });

  it('organization lists, the gap table and the service directory name its own organization only', async () => {
    expect((await json('partner', '/api/partners')).partners).toEqual([{ org_id: OWN, org_name: 'Homes First NC, Inc.' }]);
    const f = await json('partner', '/api/filters');
    expect(f.orgs.map((o: { id: string }) => o.id)).toEqual([OWN]);
    expect(f.dimensions.map((d: { id: string }) => d.id)).not.toContain('target_org_id');
    const gaps = await json('partner', '/api/gaps');
    expect(gaps.rows).toHaveLength(36);
    expect(gaps.rows.every((x: Record<string, unknown>) => !('programs' in x))).toBe(true);
    const heat = await json('partner', '/api/charts/gap-heatmap.json');
    const detail = heat.table.rows.map((x: { detail: string | null }) => x.detail).filter(Boolean);
    expect(detail.length).toBeGreaterThan(0);
    expect(detail.every((d: string) => d === 'Rapid Rehousing (Homes First NC, Inc.)')).toBe(true);
  });

  it('the organization comes from the credential: the session says so, whatever the request', async () => {
    const s = await json('partner', '/api/session');
    expect(s.user).toMatchObject({ role: 'partner', org: OWN });
    expect(s.pages.map((p: { path: string }) => p.path)).not.toContain('/data-quality');
    const e = await json('evaluator', '/api/session');
    expect(e.pages.map((p: { path: string }) => p.path)).toContain('/data-quality');
    const a = await json('admin', '/api/session');
    expect(a.pages.map((p: { path: string }) => p.path)).toEqual(['/data-quality', '/dictionary', '/admin']);
  });
});
