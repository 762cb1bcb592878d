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
  return `([${vs.map(lit).join(', ')}]::VARCHAR[])`;
}

function numList(vs: number[]): string {
  return `([${vs.map((v) => lit(v)).join(', ')}]::DOUBLE[])`;
}

/** Cumulative upper bounds of all categories but the last, normalised to 1. */
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

/**
 * A categorical draw as a CASE over u in [0, 1): `CASE WHEN u < c1 THEN v1 ... ELSE vk END`.
 * (Much faster in DuckDB than a lambda over a list of bounds.)
 */
function caseOf(u: string, values: Array<string | number | null>, weights: number[]): string {
  const cum = cumulative(weights);
  const whens = cum.map((c, i) => `WHEN ${u} < ${lit(c)} THEN ${lit(values[i] ?? null)}`);
  return `CASE ${whens.join(' ')} ELSE ${lit(values[values.length - 1] ?? null)} END`;
}

function mixCase(u: string, mix: Mix): string {
  return caseOf(u, mix.map(([v]) => v), mix.map(([, w]) => w));
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
  const parts: string[] = [];

  parts.push(`-- constants from reference.ts
CREATE MACRO domain_name(d) AS ${strList([...DOMAINS])}[d];
CREATE MACRO need_share(d) AS ${dl((x) => x.needShare)}[d];
CREATE MACRO ask_share(instrument, d) AS CASE instrument
  WHEN 'ahc_hrsn' THEN ${dl((x) => x.askAhc)}[d]
  WHEN 'prapare' THEN ${dl((x) => x.askPrapare)}[d]
  ELSE ${dl((x) => x.askOther)}[d] END;
CREATE MACRO decline_share(d) AS ${dl((x) => x.declineShare)}[d];
CREATE MACRO refer_share(d) AS ${dl((x) => x.referShare)}[d];
CREATE MACRO domain_accept(d) AS ${dl((x) => x.acceptFactor)}[d];
CREATE MACRO benefit(d) AS ${strList(d.map((x) => x.benefit))}[d];
CREATE MACRO pick_county(u) AS ${caseOf('u', COUNTIES.map((_, i) => i + 1), COUNTIES.map((c) => c.weight))};
CREATE MACRO pick_age_band(u) AS ${caseOf('u', AGE_BANDS.map((_, i) => i + 1), AGE_BANDS.map((b) => b[2]))};
CREATE MACRO age_lo() AS ([${AGE_BANDS.map((b) => b[0]).join(', ')}]::INTEGER[]);
CREATE MACRO age_hi() AS ([${AGE_BANDS.map((b) => b[1]).join(', ')}]::INTEGER[]);
CREATE MACRO pick_sex(u) AS ${mixCase('u', SEX_MIX)};
CREATE MACRO pick_race(ci, u) AS CASE ci
  ${COUNTIES.map((c, i) => `WHEN ${i + 1} THEN ${caseOf('u', [...RACES], c.race)}`).join('\n  ')}
  END;
CREATE MACRO pick_language(race, u) AS CASE race
  ${Object.entries(LANGUAGE_BY_RACE).filter(([r]) => r !== '*').map(([r, mix]) => `WHEN ${lit(r)} THEN ${mixCase('u', mix)}`).join('\n  ')}
  ELSE ${mixCase('u', LANGUAGE_BY_RACE['*'] ?? [])} END;
CREATE MACRO pick_payer(age, u) AS CASE WHEN age < 18 THEN ${mixCase('u', PAYER_BY_AGE.child)}
  WHEN age < 65 THEN ${mixCase('u', PAYER_BY_AGE.adult)}
  ELSE ${mixCase('u', PAYER_BY_AGE.elder)} END;
CREATE MACRO pick_primary_need(u) AS ${caseOf('u', core.map((_, i) => i + 1), core.map((x) => x.primaryWeight))};
CREATE MACRO needy_base(payer) AS CASE coalesce(payer, '')
  ${Object.entries(NEEDY_BY_PAYER).map(([k, v]) => `WHEN ${lit(k)} THEN ${lit(v)}`).join('\n  ')}
  ELSE 0.31 END;
CREATE MACRO program_count() AS ${PROGRAMS.length};`);

  // County attributes as constant lists indexed by county number (cheaper than joining a table).
  const zipOffsets: number[] = [];
  COUNTIES.reduce((acc, c) => (zipOffsets.push(acc), acc + c.zips.length), 0);
  parts.push(`CREATE MACRO county_fips(ci) AS ${strList(COUNTIES.map((c) => c.fips))}[ci];
CREATE MACRO county_rural(ci) AS ([${COUNTIES.map((c) => lit(c.rural)).join(', ')}]::BOOLEAN[])[ci];
CREATE MACRO county_program(ci) AS ${strList(COUNTIES.map((c) => c.program))}[ci];
-- a ZIP of the county, uniformly: ZIPs of all counties in one list, with each county's offset and count
CREATE MACRO county_zip(ci, u) AS ${strList(COUNTIES.flatMap((c) => c.zips))}[
  ([${zipOffsets.join(', ')}]::INTEGER[])[ci] + 1 + floor(u * ([${COUNTIES.map((c) => c.zips.length).join(', ')}]::INTEGER[])[ci])::INTEGER];`);

  parts.push(`CREATE TABLE ref_program (pi INTEGER, program_id VARCHAR, clinic VARCHAR, instrument VARCHAR);
INSERT INTO ref_program VALUES
  ${values(PROGRAMS.map((p, i) => [lit(i + 1), lit(p.id), lit(p.clinic), lit(p.instrument)]))};`);

  // not_accepted_1/2: cumulative bounds of never answered / rejected / cancelled
  parts.push(`CREATE TABLE ref_org (oi INTEGER, org_id VARCHAR, accept_factor DOUBLE, not_accepted_1 DOUBLE, not_accepted_2 DOUBLE, no_capacity_share DOUBLE);
INSERT INTO ref_org VALUES
  ${values(
    ORGS.map((o, i) => {
      const [n1, n2] = cumulative(o.notAccepted);
      return [lit(i + 1), lit(o.id), lit(o.acceptFactor), lit(n1 ?? 1), lit(n2 ?? 1), lit(o.noCapacityShare)];
    }),
  )};`);

  // The partners a referral can go to, per (county, domain): the directory
  // programs serving the cell, weighted by organization; where none does, an
  // out-of-area program of the domain, equally weighted. Up to 4 candidates
  // as plain columns (cheaper to join than lists): org_k, program_k and the
  // cumulative bounds c_k.
  const orgWeight = new Map(ORGS.map((o) => [o.id, o.weight]));
  const MAX = 4;
  const targets: string[][] = [];
  COUNTIES.forEach((c, ci) => {
    DOMAINS.forEach((dom, di) => {
      const serving = DIRECTORY.filter((p) => p.domain === dom && p.counties.includes(c.fips));
      const outOfArea = serving.length === 0;
      const progs = outOfArea ? DIRECTORY.filter((p) => p.domain === dom) : serving;
      if (progs.length === 0) throw new Error(`no directory program serves ${dom}`);
      if (progs.length > MAX) throw new Error(`more than ${MAX} programs for ${dom} in ${c.fips}`);
      const cum = cumulative(progs.map((p) => (outOfArea ? 1 : (orgWeight.get(p.org) ?? 1))));
      const pad = <T,>(xs: T[], fill: T) => [...xs, ...Array<T>(MAX - xs.length).fill(fill)];
      targets.push([
        lit(ci + 1),
        lit(di + 1),
        lit(outOfArea),
        ...pad(progs.map((p) => lit(p.org)), 'NULL'),
        ...pad(progs.map((p) => lit(p.id)), 'NULL'),
        // bounds past the last candidate are 2 (never reached by u < 1)
        ...pad(cum.map((x) => lit(x)), '2').slice(0, MAX - 1),
      ]);
    });
  });
  const k = Array.from({ length: MAX }, (_, i) => i + 1);
  parts.push(`CREATE TABLE ref_target (ci INTEGER, d INTEGER, out_of_area BOOLEAN, ${k.map((i) => `org_${i} VARCHAR`).join(', ')}, ${k.map((i) => `program_${i} VARCHAR`).join(', ')}, ${k.slice(0, -1).map((i) => `c_${i} DOUBLE`).join(', ')});
INSERT INTO ref_target VALUES
  ${values(targets)};`);

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
