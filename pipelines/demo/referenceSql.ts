/**
 * Turns reference.ts into SQL: small lookup tables (ref_*) and constant list
 * macros that the generator's .sql files read. Only literals built from our
 * own constants go into this SQL, quoted by `lit`.
 */
import {
  AGE_BANDS,
  COUNTIES,
  DEMAND_PER_PERSON_MONTH,
  DIRECTORY,
  DOMAINS,
  DOMAIN_PARAMS,
  LANGUAGE_BY_RACE,
  NEEDY_BY_PAYER,
  ORGS,
  PAYER_BY_AGE,
  PROGRAMS,
  RACES,
  SEX_MIX,
  type Mix,
} from './reference.ts';

/** A SQL literal for a string, number, boolean or null (lists become typed lists). */
export function lit(v: string | number | boolean | null): string {
  if (v === null) return 'NULL';
  if (typeof v === 'boolean') return v ? 'TRUE' : 'FALSE';
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new Error(`not a finite number: ${v}`);
    return String(v);
  }
  return `'${v.replace(/'/g, "''")}'`;
}

function strList(vs: Array<string | null>): string {
  return `[${vs.map(lit).join(', ')}]::VARCHAR[]`;
}

function numList(vs: number[]): string {
  return `[${vs.map((v) => lit(v)).join(', ')}]::DOUBLE[]`;
}

/** Cumulative upper bounds of all categories but the last, normalised to 1 (see pick_index in random.sql). */
export function cumulative(weights: number[]): number[] {
  const total = weights.reduce((a, b) => a + b, 0);
  if (!(total > 0)) throw new Error('weights must sum to a positive number');
  const out: number[] = [];
  let acc = 0;
  for (const w of weights.slice(0, -1)) {
    acc += w;
    out.push(Number((acc / total).toFixed(12)));
  }
  return out;
}

function mixLists(mix: Mix): { vals: string; cum: string } {
  return { vals: strList(mix.map(([v]) => v)), cum: numList(cumulative(mix.map(([, w]) => w))) };
}

function values(rows: string[][]): string {
  return rows.map((r) => `(${r.join(', ')})`).join(',\n  ');
}

/** Capacity level at which a cell's programs can take all its expected positive needs, with headroom. */
const ADEQUATE = 1.4;
/** Share of the adequate capacity in the deliberately short cells. */
const SHORT = 0.2;

export interface ServiceRow {
  program_id: string;
  org_id: string;
  org_name: string;
  program_name: string;
  domain: string;
  county_fips: string;
  monthly_capacity: number | null;
}

/**
 * The service directory rows (program x county). Capacity scales with the
 * demo's size so demand/capacity ratios mean the same at any size: each
 * cell's adequate capacity is its expected monthly positive needs x 1.4,
 * split between the programs serving it by their organization's weight.
 */
export function serviceRows(people: number): ServiceRow[] {
  const totalWeight = COUNTIES.reduce((a, c) => a + c.weight, 0);
  const orgById = new Map(ORGS.map((o) => [o.id, o]));
  const rows: ServiceRow[] = [];
  for (const prog of DIRECTORY) {
    const org = orgById.get(prog.org);
    if (!org) throw new Error(`directory program ${prog.id}: unknown org ${prog.org}`);
    for (const fips of prog.counties) {
      const county = COUNTIES.find((c) => c.fips === fips);
      if (!county) throw new Error(`directory program ${prog.id}: unknown county ${fips}`);
      const sharers = DIRECTORY.filter((q) => q.domain === prog.domain && q.counties.includes(fips));
      const weightSum = sharers.reduce((a, q) => a + (orgById.get(q.org)?.weight ?? 0), 0);
      const demand = people * (county.weight / totalWeight) * DEMAND_PER_PERSON_MONTH[prog.domain];
      const factor = prog.shortIn?.includes(fips) ? SHORT : ADEQUATE;
      const unknown = prog.unknownCapacityIn === 'all' || (prog.unknownCapacityIn ?? []).includes(fips);
      rows.push({
        program_id: prog.id,
        org_id: org.id,
        org_name: org.name,
        program_name: prog.name,
        domain: prog.domain,
        county_fips: fips,
        monthly_capacity: unknown ? null : Math.max(1, Math.round((demand * factor * org.weight) / weightSum)),
      });
    }
  }
  // File order = key order (program_id, county_fips).
  return rows.sort((a, b) => (a.program_id + a.county_fips < b.program_id + b.county_fips ? -1 : 1));
}

/** Every ref_* table and constant macro the generator's SQL uses. */
export function referenceSql(people: number): string {
  const d = DOMAIN_PARAMS;
  if (d.map((x) => x.domain).join() !== DOMAINS.join()) throw new Error('DOMAIN_PARAMS must list DOMAINS in order');
  const core = d.slice(0, 5);
  const dl = (f: (x: (typeof d)[number]) => number) => numList(d.map(f));
  const sex = mixLists(SEX_MIX);
  const parts: string[] = [];

  parts.push(`-- constants from reference.ts
CREATE MACRO domain_name(d) AS ${strList([...DOMAINS])}[d];
CREATE MACRO need_share(d) AS ${dl((x) => x.needShare)}[d];
CREATE MACRO primary_cum() AS ${numList(cumulative(core.map((x) => x.primaryWeight)))};
CREATE MACRO ask_share(instrument, d) AS CASE instrument
  WHEN 'ahc_hrsn' THEN ${dl((x) => x.askAhc)}[d]
  WHEN 'prapare' THEN ${dl((x) => x.askPrapare)}[d]
  ELSE ${dl((x) => x.askOther)}[d] END;
CREATE MACRO decline_share(d) AS ${dl((x) => x.declineShare)}[d];
CREATE MACRO refer_share(d) AS ${dl((x) => x.referShare)}[d];
CREATE MACRO domain_accept(d) AS ${dl((x) => x.acceptFactor)}[d];
CREATE MACRO benefit(d) AS ${strList(d.map((x) => x.benefit))}[d];
CREATE MACRO county_cum() AS ${numList(cumulative(COUNTIES.map((c) => c.weight)))};
CREATE MACRO age_lo() AS [${AGE_BANDS.map((b) => b[0]).join(', ')}]::INTEGER[];
CREATE MACRO age_hi() AS [${AGE_BANDS.map((b) => b[1]).join(', ')}]::INTEGER[];
CREATE MACRO age_cum() AS ${numList(cumulative(AGE_BANDS.map((b) => b[2])))};
CREATE MACRO sex_vals() AS ${sex.vals};
CREATE MACRO sex_cum() AS ${sex.cum};
CREATE MACRO race_vals() AS ${strList([...RACES])};
CREATE MACRO needy_base(payer) AS CASE coalesce(payer, '')
  ${Object.entries(NEEDY_BY_PAYER).map(([k, v]) => `WHEN ${lit(k)} THEN ${lit(v)}`).join('\n  ')}
  ELSE 0.35 END;
CREATE MACRO program_count() AS ${PROGRAMS.length};`);

  parts.push(`CREATE TABLE ref_county (ci INTEGER, fips VARCHAR, name VARCHAR, rural BOOLEAN, zips VARCHAR[], race_cum DOUBLE[], program_id VARCHAR);
INSERT INTO ref_county VALUES
  ${values(
    COUNTIES.map((c, i) => [
      lit(i + 1),
      lit(c.fips),
      lit(c.name),
      lit(c.rural),
      strList(c.zips),
      numList(cumulative(c.race)),
      lit(c.program),
    ]),
  )};`);

  parts.push(`CREATE TABLE ref_language (race VARCHAR, vals VARCHAR[], cum DOUBLE[]);
INSERT INTO ref_language VALUES
  ${values(
    Object.entries(LANGUAGE_BY_RACE).map(([race, mix]) => {
      const m = mixLists(mix);
      return [lit(race), m.vals, m.cum];
    }),
  )};`);

  parts.push(`CREATE TABLE ref_payer (age_group VARCHAR, vals VARCHAR[], cum DOUBLE[]);
INSERT INTO ref_payer VALUES
  ${values(
    Object.entries(PAYER_BY_AGE).map(([g, mix]) => {
      const m = mixLists(mix);
      return [lit(g), m.vals, m.cum];
    }),
  )};`);

  parts.push(`CREATE TABLE ref_program (pi INTEGER, program_id VARCHAR, clinic VARCHAR, instrument VARCHAR);
INSERT INTO ref_program VALUES
  ${values(PROGRAMS.map((p, i) => [lit(i + 1), lit(p.id), lit(p.clinic), lit(p.instrument)]))};`);

  parts.push(`CREATE TABLE ref_org (oi INTEGER, org_id VARCHAR, accept_factor DOUBLE, not_accepted_cum DOUBLE[], no_capacity_share DOUBLE);
INSERT INTO ref_org VALUES
  ${values(
    ORGS.map((o, i) => [lit(i + 1), lit(o.id), lit(o.acceptFactor), numList(cumulative(o.notAccepted)), lit(o.noCapacityShare)]),
  )};`);

  // Candidate partners per (county, domain): every directory program serving the cell, weighted by its org.
  const orgWeight = new Map(ORGS.map((o) => [o.id, o.weight]));
  const cells: string[][] = [];
  COUNTIES.forEach((c, ci) => {
    DOMAINS.forEach((dom, di) => {
      const progs = DIRECTORY.filter((p) => p.domain === dom && p.counties.includes(c.fips));
      if (progs.length === 0) return;
      cells.push([
        lit(ci + 1),
        lit(di + 1),
        strList(progs.map((p) => p.org)),
        strList(progs.map((p) => p.id)),
        numList(cumulative(progs.map((p) => orgWeight.get(p.org) ?? 1))),
      ]);
    });
  });
  parts.push(`CREATE TABLE ref_cell (ci INTEGER, d INTEGER, orgs VARCHAR[], programs VARCHAR[], cum DOUBLE[]);
INSERT INTO ref_cell VALUES
  ${values(cells)};`);

  // Where no program serves the cell, the referral goes to an out-of-area program of the domain.
  const fallback = DOMAINS.map((dom, di) => {
    const progs = DIRECTORY.filter((p) => p.domain === dom);
    if (progs.length === 0) throw new Error(`no directory program serves ${dom}`);
    return [lit(di + 1), strList(progs.map((p) => p.org)), strList(progs.map((p) => p.id)), numList(cumulative(progs.map(() => 1)))];
  });
  parts.push(`CREATE TABLE ref_fallback (d INTEGER, orgs VARCHAR[], programs VARCHAR[], cum DOUBLE[]);
INSERT INTO ref_fallback VALUES
  ${values(fallback)};`);

  const services = serviceRows(people);
  parts.push(`CREATE TABLE ref_service (program_id VARCHAR, org_id VARCHAR, org_name VARCHAR, program_name VARCHAR, domain VARCHAR, county_fips VARCHAR, monthly_capacity INTEGER, s1 BIGINT, s2 BIGINT);
INSERT INTO ref_service VALUES
  ${values(
    services.map((s, i) => [
      lit(s.program_id),
      lit(s.org_id),
      lit(s.org_name),
      lit(s.program_name),
      lit(s.domain),
      lit(s.county_fips),
      lit(s.monthly_capacity),
      lit(i + 1),
      '0',
    ]),
  )};`);

  return parts.join('\n\n');
}
