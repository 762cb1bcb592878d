// The tables the HSDS directory reader maps through: taxonomy terms -> domain and the
// capacity units read as per month (data/reference/hsds-directory.json, versioned), and
// county name + state -> 5-digit FIPS, built from the us-atlas counties we already ship.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { z } from 'zod';
import { DOMAINS } from '../../../models/contracts/domains.ts';

const Domain = z.enum(DOMAINS);

const Tables = z.object({
  version: z.string(),
  read_from: z.record(z.string(), z.string()),
  taxonomies: z.array(z.object({
    scheme: z.string(),
    /** How a term names its taxonomy (taxonomy_term.taxonomy, or the taxonomy's name or uri), matched case-insensitively. */
    names: z.array(z.string()).min(1),
    /** prefix: hierarchical codes (BD-1800.2000 is under BD; the longest listed prefix decides); exact: flat codes. */
    match: z.enum(['prefix', 'exact']),
    codes: z.record(z.string(), Domain),
  }).strict()),
  capacity_units_per_month: z.array(z.string()).min(1),
  states: z.record(z.string().regex(/^[A-Z]{2}$/), z.string().regex(/^\d{2}$/)),
}).strict();

export type HsdsTables = z.infer<typeof Tables>;

export const HSDS_TABLES_FILE = new URL('../../../data/reference/hsds-directory.json', import.meta.url);

let cached: HsdsTables | null = null;
export function hsdsTables(): HsdsTables {
  cached ??= Tables.parse(JSON.parse(readFileSync(HSDS_TABLES_FILE, 'utf8')));
  return cached;
}

const norm = (s: string) => s.trim().toLowerCase().replace(/\s+/g, ' ');

/** A taxonomy term's domain: null when its taxonomy or its code is not in the table. */
export function domainOfTerm(taxonomy: string | null | undefined, code: string | null | undefined, t = hsdsTables()): { domain: string } | { unknown: string } {
  const scheme = taxonomy ? t.taxonomies.find((s) => s.names.some((n) => norm(n) === norm(taxonomy))) : undefined;
  if (!scheme) return { unknown: `taxonomy ${taxonomy ? `'${taxonomy}'` : '(none)'} is not one closeloop maps (${t.taxonomies.map((s) => s.names[0]).join(', ')})` };
  const c = (code ?? '').trim();
  if (scheme.match === 'exact') {
    const d = scheme.codes[c];
    return d ? { domain: d } : { unknown: `${scheme.names[0]} code '${c}' is not in the mapping table` };
  }
  for (let n = c.length; n > 0; n--) {
    const p = c.slice(0, n);
    const d = scheme.codes[p];
    // a prefix ends where a level of the code ends (BD-1800 is under BD, BDX is not)
    if (d && (n === c.length || /[-.]/.test(c.charAt(n)))) return { domain: d };
  }
  return { unknown: `${scheme.names[0]} code '${c}' is under no category in the mapping table` };
}

export const isMonthlyUnit = (name: string | null | undefined, t = hsdsTables()) => !!name && t.capacity_units_per_month.some((u) => norm(u) === norm(name));

interface Counties {
  /** state FIPS by USPS abbreviation or state name (normalised). */
  state: Map<string, string>;
  /** "<state fips>|<normalised county name>" -> FIPS codes (two: a county and an independent city of one name). */
  county: Map<string, string[]>;
  fips: Set<string>;
}

let counties: Counties | null = null;
function countyTables(): Counties {
  if (counties) return counties;
  const require = createRequire(import.meta.url);
  type Topo = { objects: Record<string, { geometries: Array<{ id: string; properties: { name: string } }> }> };
  const c = JSON.parse(readFileSync(require.resolve('us-atlas/counties-10m.json'), 'utf8')) as Topo;
  const s = JSON.parse(readFileSync(require.resolve('us-atlas/states-10m.json'), 'utf8')) as Topo;
  const state = new Map<string, string>();
  for (const g of s.objects.states!.geometries) state.set(norm(g.properties.name), g.id);
  for (const [abbr, fips] of Object.entries(hsdsTables().states)) state.set(norm(abbr), fips);
  const county = new Map<string, string[]>();
  const fips = new Set<string>();
  for (const g of c.objects.counties!.geometries) {
    const k = `${g.id.slice(0, 2)}|${norm(g.properties.name)}`;
    county.set(k, [...(county.get(k) ?? []), g.id]);
    fips.add(g.id);
  }
  counties = { state, county, fips };
  return counties;
}

export const stateFips = (name: string | null | undefined) => (name ? countyTables().state.get(norm(name)) ?? null : null);

const SUFFIX = /\s+(county|parish|borough|census area|city and borough|municipality|municipio)$/i;

/**
 * A county named in free text ("Wake County", "Wake County, NC", "St. Louis city, Missouri",
 * or a 5-digit FIPS code) -> its FIPS code; `state` is used when the text names none.
 * A name that is both a county and an independent city (Richmond, VA) must say which.
 */
export function countyFips(text: string, state: string | null | undefined): { fips: string } | { unknown: string } {
  const t = countyTables();
  const raw = text.trim();
  if (/^\d{5}$/.test(raw)) return t.fips.has(raw) ? { fips: raw } : { unknown: `'${raw}' is not a county FIPS code` };
  const comma = raw.lastIndexOf(',');
  const namedState = comma > 0 ? stateFips(raw.slice(comma + 1)) : null;
  if (comma > 0 && !namedState) return { unknown: `'${raw.slice(comma + 1).trim()}' in '${raw}' is not a US state name or abbreviation` };
  const st = namedState ?? stateFips(state);
  if (!st) return { unknown: `'${raw}' names no state${state ? ` and '${state}' is not one` : ''} (write "County, ST")` };
  let name = (comma > 0 ? raw.slice(0, comma) : raw).trim();
  const city = /\s+city$/i.test(name);
  const suffixed = SUFFIX.test(name);
  name = name.replace(SUFFIX, '').replace(/\s+city$/i, '');
  if (/^saint\s/i.test(name)) name = `St. ${name.slice(6)}`;
  const found = t.county.get(`${st}|${norm(name)}`) ?? t.county.get(`${st}|${norm(`${name} city`)}`);
  if (!found) return { unknown: `'${raw}' is not a county of ${namedState ? raw.slice(comma + 1).trim() : state} (state ${st}) among the us-atlas county names` };
  if (found.length === 1) return { fips: found[0] as string };
  // An independent city's county part is 500 or more (Richmond city 51760, Richmond County 51159).
  const pick = found.filter((f) => (Number(f.slice(2)) >= 500) === city);
  if ((city || suffixed) && pick.length === 1) return { fips: pick[0] as string };
  return { unknown: `'${raw}' is both a county and an independent city: write "${name} County" or "${name} city"` };
}
