// Column mappings (data-contract.md, "Column mappings"): let a program load its
// platform's export unedited. One JSON file per source under data/mappings/.
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { ENTITIES } from '../../models/contracts/index.ts';

const entityNames = ENTITIES.map((e) => e.name) as [string, ...string[]];

/** A value map entry: a constant, or the value of another source column. */
const TargetValue = z.union([z.string(), z.object({ from: z.string().min(1) }).strict()]);

const ColumnRule = z.union([
  z.string().min(1), // "Client ID": "person_id" renames a source column
  z.object({ const: z.string() }).strict(), // "target_org_id": {"const": "ORG-12"}
  z.record(z.string(), z.record(z.string(), TargetValue)), // "Case Status": {"Got help": {...}}
]);

/** Cell values that mean "missing" unless a mapping says otherwise (matched exactly, after trimming). */
export const DEFAULT_MISSING_VALUES: readonly string[] = ['NULL', 'null', 'NA', 'N/A', 'n/a', '-'];

export const ClaimSchema = z
  .object({
    entity: z.enum(entityNames),
    files: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
    date_format: z.string().min(2).optional(),
    /** Placeholder tokens read as empty, replacing the default list ([] reads every value as data). */
    missing_values: z.array(z.string().min(1)).optional(),
    columns: z.record(z.string(), ColumnRule).default({}),
  })
  .strict();

export const MappingSchema = z.union([
  ClaimSchema.extend({ description: z.string().optional() }),
  z.object({ description: z.string().optional(), claims: z.array(ClaimSchema).min(1) }).strict(),
]);

export type Claim = z.infer<typeof ClaimSchema>;

export interface LoadedClaim extends Claim {
  /** Mapping file the claim came from (for messages and the ledger). */
  mappingFile: string;
  mappingSha: string;
}

export interface ColumnPlan {
  /** Contract column -> how to get its raw text from the source. */
  targets: Map<string, TargetSource>;
  /** Source columns whose values must be covered by a value map. */
  valueMaps: Array<{ source: string; values: string[] }>;
  /** Placeholder tokens that mean an empty value. */
  missingValues: readonly string[];
}

export type TargetSource =
  | { kind: 'column'; source: string }
  | { kind: 'const'; value: string }
  | { kind: 'valueMap'; source: string; cases: Array<{ when: string; value: { const: string } | { from: string } }>; fallback: TargetSource | null };

export async function loadMappings(dir: string): Promise<LoadedClaim[]> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => n.endsWith('.json')).sort();
  } catch {
    return [];
  }
  const claims: LoadedClaim[] = [];
  for (const name of names) {
    const path = join(dir, name);
    const text = await readFile(path, 'utf8');
    const { createHash } = await import('node:crypto');
    const sha = createHash('sha256').update(text).digest('hex');
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      throw new Error(`mapping ${path}: not valid JSON (${(err as Error).message})`);
    }
    const parsed = MappingSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new Error(`mapping ${path}: ${issue?.path.join('.') || '(top)'}: ${issue?.message}`);
    }
    const list = 'claims' in parsed.data ? parsed.data.claims : [parsed.data];
    for (const c of list) claims.push({ ...c, mappingFile: path, mappingSha: sha });
  }
  return claims;
}

/** Glob with `*` and `?` only, matched against the file name, case-insensitively. */
export function globMatches(glob: string, fileName: string): boolean {
  const re = new RegExp(`^${glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replaceAll('*', '.*').replaceAll('?', '.')}$`, 'i');
  return re.test(fileName);
}

export function claimFor(claims: LoadedClaim[], fileName: string): LoadedClaim | undefined {
  return claims.find((c) => (Array.isArray(c.files) ? c.files : [c.files]).some((g) => globMatches(g, fileName)));
}

/**
 * Work out where each contract column comes from, given the file's header. Without a
 * claim, columns are matched by name. Throws a message naming what is wrong.
 */
export function planColumns(contractColumns: string[], header: string[], claim?: Claim): ColumnPlan {
  const norm = (s: string) => s.trim().toLowerCase();
  const byNorm = new Map(header.map((h) => [norm(h), h]));
  const sourceColumn = (name: string) => {
    const h = byNorm.get(norm(name));
    if (h === undefined) throw new Error(`the mapping names source column "${name}", which the file does not have`);
    return h;
  };
  const targets = new Map<string, TargetSource>();
  const valueMaps: ColumnPlan['valueMaps'] = [];
  const known = new Set(contractColumns);
  const checkTarget = (t: string) => {
    if (!known.has(t)) throw new Error(`the mapping targets "${t}", which is not a column of this entity`);
  };
  const plainRules: Array<[string, string]> = [];
  for (const [key, rule] of Object.entries(claim?.columns ?? {})) {
    if (typeof rule === 'string') {
      checkTarget(rule);
      plainRules.push([sourceColumn(key), rule]);
    } else if ('const' in rule && typeof rule.const === 'string') {
      checkTarget(key);
      targets.set(key, { kind: 'const', value: rule.const });
    }
  }
  for (const [src, target] of plainRules) if (!targets.has(target)) targets.set(target, { kind: 'column', source: src });
  // Columns that already carry a contract name pass through.
  for (const c of contractColumns) {
    if (!targets.has(c) && byNorm.has(c)) targets.set(c, { kind: 'column', source: byNorm.get(c) as string });
  }
  for (const [key, rule] of Object.entries(claim?.columns ?? {})) {
    if (typeof rule === 'string' || 'const' in rule) continue;
    const source = sourceColumn(key);
    const values = Object.keys(rule);
    valueMaps.push({ source, values });
    const perTarget = new Map<string, Array<{ when: string; value: { const: string } | { from: string } }>>();
    for (const [when, assignments] of Object.entries(rule as Record<string, Record<string, z.infer<typeof TargetValue>>>)) {
      for (const [target, v] of Object.entries(assignments)) {
        checkTarget(target);
        const value = typeof v === 'string' ? { const: v } : { from: sourceColumn(v.from) };
        const list = perTarget.get(target) ?? [];
        list.push({ when, value });
        perTarget.set(target, list);
      }
    }
    for (const [target, cases] of perTarget) {
      targets.set(target, { kind: 'valueMap', source, cases, fallback: targets.get(target) ?? null });
    }
  }
  return { targets, valueMaps, missingValues: claim?.missing_values ?? DEFAULT_MISSING_VALUES };
}

export function mappingsDir(root: string): string {
  return join(root, 'mappings');
}
