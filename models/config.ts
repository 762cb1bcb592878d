// Configuration (closeloop.config.json beside the store, all optional), validated by
// zod so a typo is an error that names the setting, never a silent default.
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { PublicationSchema } from './disclosure/surface.ts';

export const ReferenceChoice = z.union([
  // A reference chosen by size tells an attacker that every withheld group is smaller (issue 14, route 4).
  z.literal('largest').refine(() => false, { message: "'largest' is not a reference choice: a reference chosen by size tells who is smaller than whom among withheld groups (issue 14); name a group ({\"group\": \"...\"}) or use \"most_favourable\"" }),
  z.literal('most_favourable'), // the best whole-span rate among groups with denominator >= 30 (dimensions not named)
  z.object({
    group: z.string().min(1).refine((g) => !g.split('*').includes('unknown'), { message: "'unknown' cannot be a reference group (it measures missing data)" }),
  }).strict(), // a named group, e.g. {"group": "white"}
]);
export type ReferenceChoice = z.infer<typeof ReferenceChoice>;

/** Where the intermediate models, facts and aggregations run (README, "Engines"). */
export const EngineSetting = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('duckdb') }).strict(),
  z
    .object({
      kind: z.literal('postgres'),
      /** postgresql://user@host:port/database (a password is better kept in PGPASSWORD or ~/.pgpass). */
      url: z.string().regex(/^postgres(ql)?:\/\//, 'a postgresql:// URL'),
      /** Worker servers: tables with a person_id are hash-partitioned across them (postgres_fdw). */
      workers: z.array(z.string().regex(/^postgres(ql)?:\/\//, 'a postgresql:// URL')).default([]),
      /** work_mem of the run's sessions. */
      workMem: z.string().regex(/^\d+\s*(kB|MB|GB)$/).default('256MB'),
    })
    .strict(),
]);
export type EngineSetting = z.infer<typeof EngineSetting>;

/**
 * The reference groups of AHRQ's National Healthcare Quality and Disparities Report, where
 * a dimension has a conventional one. Every other dimension (sex, age band, county, ZIP3,
 * program, partner organization) uses the most favourable whole-span rate among groups of
 * 30 or more. A configuration names only the dimensions it changes.
 */
export const DEFAULT_REFERENCE_GROUPS: Readonly<Record<string, ReferenceChoice>> = Object.freeze({
  race_ethnicity: { group: 'white' },
  payer: { group: 'commercial' },
  preferred_language: { group: 'en' },
  limited_english: { group: 'no' },
  rurality: { group: 'urban' },
});

export const ConfigSchema = z
  .object({
    /** Two-way cuts beyond race_ethnicity*payer (which is always computed). */
    twoWayCuts: z.array(z.string().regex(/^[a-z_0-9]+\*[a-z_0-9]+$/)).default([]),
    /** Reference group per dimension, over DEFAULT_REFERENCE_GROUPS; dimensions named by neither use 'most_favourable'. */
    referenceGroups: z.record(z.string(), ReferenceChoice).default({}).transform((r) => ({ ...DEFAULT_REFERENCE_GROUPS, ...r })),
    /** The designed publication surface: grains published for `all`, one-way and two-way cuts (models/disclosure/surface.ts). */
    publication: PublicationSchema.default(PublicationSchema.parse({})),
    /**
     * Disclosure policy (issue 14): `cms` withholds counts 1..10 (the CMS cell-size rule);
     * `custom` takes suppressionThreshold, which may only be higher. "Withheld" protects
     * privacy; "unreliable" (the reliability flag) is a separate, statistical warning.
     */
    policy: z.enum(['cms', 'custom']).default('cms'),
    /** Smallest count shown under policy `custom` (at least 11); under `cms` it is 11. */
    suppressionThreshold: z.number().int().min(11).default(11),
    /** One-column CSV (header zip3) of restricted 3-digit ZIPs released as 000. */
    restrictedZip3File: z.string().default(new URL('../data/reference/restricted-zip3.csv', import.meta.url).pathname),
    /** Published generations kept for rollback. */
    keepGenerations: z.number().int().min(1).default(5),
    /** The engine of the metric SQL: the embedded DuckDB warehouse (default) or PostgreSQL. */
    engine: EngineSetting.default({ kind: 'duckdb' }),
    /**
     * DuckDB memory limit for a run. 768MB: at 1,000,000 people a run took the same time
     * with 768MB, 1GB or 4GB (89.0 s, 88.3-88.7 s, 86.6 s) and peaked at 1.78 GiB RSS, against
     * 1.96-2.01 GiB and 3.58 GiB (DuckDB spills what does not fit to disk; the rest of the
     * peak is Node's, about 1 GB); raise it for larger drops.
     */
    memoryLimit: z.string().regex(/^\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/i).default('768MB'),
    /** Data-quality gates (pipelines/quality/checks.ts): disable defaults, override thresholds, add checks. */
    qualityGates: z
      .object({
        disable: z.array(z.string()).default([]),
        overrides: z.record(z.string(), z.object({ severity: z.enum(['warn', 'block']).optional(), threshold: z.number().min(0).optional(), minRows: z.number().int().min(0).optional() }).strict()).default({}),
        /** Extra checks, validated by pipelines/quality/checks.ts (CheckSchema). */
        checks: z.array(z.record(z.string(), z.unknown())).default([]),
      })
      .strict()
      .default({ disable: [], overrides: {}, checks: [] }),
    /** `closeloop schedule`: when runs start, and retries of transient failures. */
    schedule: z
      .object({
        cron: z.string().default('0 2 * * *'),
        timezone: z.string().default('America/New_York'),
        retries: z.number().int().min(0).max(10).default(3),
        backoffSeconds: z.number().min(0).default(60),
      })
      .strict()
      .default({ cron: '0 2 * * *', timezone: 'America/New_York', retries: 3, backoffSeconds: 60 }),
    /** When the published data counts as stale (/readyz answers 503, pages show a banner). */
    freshness: z
      .object({
        maxPublishedAgeHours: z.number().positive().default(36),
        maxAsOfAgeDays: z.number().positive().default(45),
      })
      .strict()
      .default({ maxPublishedAgeHours: 36, maxAsOfAgeDays: 45 }),
    /** Downloads (exports, reports, gap analyses, chart files) one user may have in flight at once; beyond, 429 with Retry-After. */
    exports: z
      .object({ maxConcurrentPerUser: z.number().int().min(1).default(2) })
      .strict()
      .default({ maxConcurrentPerUser: 2 }),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.policy === 'cms' && c.suppressionThreshold !== 11) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['suppressionThreshold'], message: `policy "cms" withholds 1..10 (threshold 11); set "policy": "custom" to use ${c.suppressionThreshold}` });
    }
  });

export type Config = z.infer<typeof ConfigSchema>;

export const DEFAULT_CONFIG: Config = ConfigSchema.parse({});

/** The configuration file: $CLOSELOOP_CONFIG, else closeloop.config.json in the working folder. */
export const configPath = (env: NodeJS.ProcessEnv = process.env) => env.CLOSELOOP_CONFIG ?? 'closeloop.config.json';

export async function loadConfig(path: string | null): Promise<Config> {
  if (!path) return DEFAULT_CONFIG;
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return DEFAULT_CONFIG;
  }
  const parsed = ConfigSchema.safeParse(JSON.parse(text));
  if (!parsed.success) {
    const i = parsed.error.issues[0];
    throw new Error(`config ${path}: ${i?.path.join('.') || '(top)'}: ${i?.message}`);
  }
  return parsed.data;
}
