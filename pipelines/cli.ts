// The closeloop command line (outputs.md, "Command line").
import { mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { EngineSetting } from '../models/config.ts';
import { contractMarkdown } from '../models/contracts/markdown.ts';
import { NothingPublished } from './published.ts';
import { runPipeline, type RunSummary } from './run.ts';
import { readPointer, storePaths, WriterBusy } from './store.ts';

type Command = {
  summary: string;
  usage: string;
  options: NonNullable<ParseArgsConfig['options']>;
  /** How many positional arguments the command takes (default none). */
  positionals?: number;
  run(values: Record<string, string | boolean | undefined>, positionals?: string[]): Promise<number>;
};

const DB = { db: { type: 'string' as const, default: 'data' } };

const COMMANDS: Record<string, Command> = {
  run: {
    summary: 'load the inbox, validate, compute the metrics and publish',
    usage: 'closeloop run [--inbox DIR] [--db DIR] [--as-of YYYY-MM-DD] [--full-refresh] [--report FILE]\n' +
      '       [--engine duckdb|postgres] [--pg URL] [--pg-worker URL]... [--explain FILE]',
    options: {
      ...DB, inbox: { type: 'string' }, 'as-of': { type: 'string' }, 'full-refresh': { type: 'boolean' }, report: { type: 'string' },
      engine: { type: 'string' }, pg: { type: 'string' }, 'pg-worker': { type: 'string', multiple: true }, explain: { type: 'string' },
    },
    async run(v) {
      const asOf = v['as-of'] as string | undefined;
      if (asOf !== undefined && !isIsoDate(asOf)) throw new UsageError(`--as-of must be a date YYYY-MM-DD, got "${asOf}"`);
      const { configPath, loadConfig, EngineSetting: schema } = await import('../models/config.ts');
      const config = await loadConfig(configPath());
      const engine = engineFromFlags(v as Record<string, unknown>, config.engine, schema);
      const summary = await runPipeline({
        config,
        engine,
        explainFile: v.explain ? resolve(v.explain as string) : undefined,
        root: resolve(v.db as string),
        inbox: v.inbox ? resolve(v.inbox as string) : undefined,
        asOf,
        fullRefresh: Boolean(v['full-refresh']),
        log: (l) => console.log(l),
      });
      printSummary(summary);
      if (v.report) {
        try {
          await writeReport(v.report as string, summary);
        } catch (err) {
          console.error(`closeloop run: cannot write the report ${v.report}: ${(err as Error).message}`);
          return 1;
        }
      }
      return summary.exit_code;
    },
  },
  demo: {
    summary: 'write a realistic, deterministic demo extract drop',
    usage: 'closeloop demo [--people N] [--seed S] [--out DIR] [--months M] [--end YYYY-MM-DD]',
    options: { people: { type: 'string', default: '20000' }, seed: { type: 'string', default: '42' }, out: { type: 'string', default: 'data/inbox' }, months: { type: 'string', default: '24' }, end: { type: 'string' } },
    async run(v) {
      const people = positiveInt(v.people as string, '--people');
      const seed = positiveInt(v.seed as string, '--seed', true);
      const months = positiveInt(v.months as string, '--months');
      if (v.end !== undefined && !isIsoDate(v.end as string)) throw new UsageError(`--end must be a date YYYY-MM-DD`);
      const { generateDemo } = await import('./demo/generate.ts');
      const out = resolve(v.out as string);
      console.log(`Writing a demo drop of ${people.toLocaleString('en-US')} people (seed ${seed}) to ${out} ...`);
      const r = await generateDemo({ people, seed, outDir: out, months, endDate: v.end as string | undefined });
      for (const f of r.files) console.log(`  ${f.file.padEnd(20)} ${f.entity.padEnd(12)} ${f.rows.toLocaleString('en-US').padStart(12)} rows`);
      console.log(`Done in ${r.seconds.toFixed(1)} s.`);
      return 0;
    },
  },
  export: {
    summary: 'write the (suppressed) results table, filtered, as csv, xlsx, json, parquet or arrow',
    usage: 'closeloop export --metric ID|all [--dimension DIM] [--grain all|year|quarter|month] [--format csv|xlsx|json|parquet|arrow] [--out FILE] [--db DIR]',
    options: { ...DB, metric: { type: 'string' }, dimension: { type: 'string' }, grain: { type: 'string' }, format: { type: 'string', default: 'csv' }, out: { type: 'string' } },
    async run(v) {
      const { EXPORT_FORMATS, ExportRefused, exportResults } = await import('../server/exports/exportResults.ts');
      const { PERIOD_GRAINS } = await import('../models/results.ts');
      const { openPublished } = await import('./published.ts');
      const metric = v.metric as string | undefined;
      if (!metric) throw new UsageError('--metric is required (a metric id, or all)');
      const format = v.format as (typeof EXPORT_FORMATS)[number];
      if (!EXPORT_FORMATS.includes(format)) throw new UsageError(`--format must be one of ${EXPORT_FORMATS.join(', ')}, got "${format}"`);
      const grain = v.grain as (typeof PERIOD_GRAINS)[number] | undefined;
      if (grain !== undefined && !PERIOD_GRAINS.includes(grain)) throw new UsageError(`--grain must be one of ${PERIOD_GRAINS.join(', ')}, got "${grain}"`);
      const { db, pointer } = await openPublished(resolve(v.db as string));
      try {
        const { rows } = await import('../models/duckdb.ts');
        const known = (await rows<{ m: string }>(db.conn, 'SELECT DISTINCT metric_id AS m FROM metric_results ORDER BY 1')).map((r) => r.m);
        if (metric !== 'all' && !known.includes(metric)) throw new UsageError(`unknown metric "${metric}"; known: ${known.join(', ')}`);
        const out = (v.out as string | undefined) ?? `closeloop-${metric}${v.dimension ? `-${v.dimension}` : ''}${grain ? `-${grain}` : ''}-${pointer.as_of}.${format}`;
        const r = await exportResults(db.conn, { metric, dimension: v.dimension as string | undefined, grain }, format, resolve(out));
        console.log(`Wrote ${r.rows.toLocaleString('en-US')} rows to ${out} (run ${pointer.run_id}, as of ${pointer.as_of}).`);
        return 0;
      } catch (err) {
        if (err instanceof ExportRefused) {
          console.error(`closeloop export: ${err.message}`);
          return 1;
        }
        throw err;
      } finally {
        db.close();
      }
    },
  },
  metrics: {
    summary: 'print the metric dictionary (markdown, from the metric catalog)',
    usage: 'closeloop metrics',
    options: {},
    async run() {
      const { metricDictionaryMarkdown } = await import('../models/metrics/catalog.ts');
      process.stdout.write(metricDictionaryMarkdown());
      return 0;
    },
  },
  'audit-suppression': {
    summary: 'check an exported results CSV against the small-cell rule (independent audit)',
    usage: 'closeloop audit-suppression FILE [--previous FILE] [--threshold N]',
    options: { threshold: { type: 'string', default: '11' }, previous: { type: 'string' } },
    positionals: 1,
    async run(v, files) {
      const { auditCsv, ReferenceRuleMismatch } = await import('../models/disclosure/audit.ts');
      const { METRICS } = await import('../models/metrics/catalog.ts');
      const { configPath, loadConfig } = await import('../models/config.ts');
      const { hasDisparityStatistics, MIN_FAVOURABLE_DENOMINATOR, referenceConfig } = await import('../models/disparities/computeComparisons.ts');
      const { peopleRule } = await import('../models/disclosure/finalise.ts');
      const { metricMetaMap } = await import('../models/disclosure/metricMeta.ts');
      const threshold = positiveInt(v.threshold as string, '--threshold');
      const file = files?.[0];
      if (!file) throw new UsageError('name the exported CSV file to audit');
      // --previous: the export of the publication before (consecutive publications: their changes are protected too)
      // the reference rule as the run applied it (closeloop.config.json's referenceGroups): the attacker knows the rules
      const config = await loadConfig(configPath());
      const namedGroups = new Map(referenceConfig(config.referenceGroups).flatMap(([d, c]) => (typeof c === 'object' ? [[d, c.group] as const] : [])));
      const favourable = { named: new Set(namedGroups.keys()), minDenominator: MIN_FAVOURABLE_DENOMINATOR, compared: new Set(METRICS.filter(hasDisparityStatistics).map((m) => m.id)) };
      let report;
      try {
        report = await auditCsv(resolve(file), { metrics: METRICS, threshold, favourable, namedGroups, people: peopleRule(metricMetaMap(METRICS)), previousPath: v.previous ? resolve(v.previous as string) : undefined });
      } catch (err) {
        if (!(err instanceof ReferenceRuleMismatch)) throw err;
        console.error(`closeloop audit-suppression: ${err.message}`);
        return 1;
      }
      if (report.guessesDropped) console.log(`${file}: note: counts that look equal across metrics on the shown groups contradict the published figures if assumed equal on the withheld ones too; audited without those guesses (the metric definitions' own relations still apply).`);
      if (report.ok) {
        console.log(`${file}: passes: ${report.rows.toLocaleString('en-US')} rows, ${report.relations.toLocaleString('en-US')} relations checked, no count 1..${threshold - 1} shown or derivable.`);
        return 0;
      }
      console.log(`${file}: FAILS: ${report.violations.length} violation(s):`);
      for (const x of report.violations.slice(0, 20)) {
        console.log(`  [${x.relation}] ${x.metric_id} ${x.period_grain} ${x.period_start} ${x.dimension}=${x.group_value}: ${x.message}`);
      }
      return 1;
    },
  },
  contract: {
    summary: 'print the data contract (markdown, generated from the zod schemas)',
    usage: 'closeloop contract',
    options: {},
    async run() {
      process.stdout.write(contractMarkdown());
      return 0;
    },
  },
  serve: {
    summary: 'serve the dashboards and the API from the last published run (read-only)',
    usage: 'closeloop serve [--port N] [--host ADDR] [--db DIR]',
    options: { ...DB, port: { type: 'string' }, host: { type: 'string' } },
    async run(v) {
      const { parsePort, serveCommand } = await import('../server/cli.ts');
      let port: number | undefined;
      try {
        port = parsePort(v.port as string | undefined);
      } catch (err) {
        throw new UsageError((err as Error).message);
      }
      await serveCommand({ db: v.db as string, port, host: v.host as string | undefined });
      return new Promise<number>(() => undefined); // serve until stopped
    },
  },
  start: {
    summary: 'the main job: demo extracts if the inbox is empty, one pipeline run, then serve the dashboards (127.0.0.1 only) with a demo evaluator sign-in link',
    usage: 'closeloop start [--db DIR] [--port N]',
    options: { ...DB, port: { type: 'string' } },
    async run(v) {
      const root = resolve(v.db as string);
      const paths = storePaths(root);
      const inboxFiles = await readdir(paths.inbox).catch(() => [] as string[]);
      if (inboxFiles.filter((n) => !n.startsWith('.')).length === 0) {
        await COMMANDS.demo!.run({ people: '20000', seed: '42', out: paths.inbox, months: '24' });
      }
      const code = await COMMANDS.run!.run({ db: root });
      if (code === 1 && !(await readPointer(paths))) return code;
      const { parsePort, serveCommand } = await import('../server/cli.ts');
      const { ensureDemoEvaluator } = await import('../server/auth/cli.ts');
      let port: number | undefined;
      try {
        port = parsePort((v.port as string | undefined) ?? process.env.PORT);
      } catch (err) {
        throw new UsageError((err as Error).message);
      }
      // The demo is for this machine only: bound to 127.0.0.1, signed in with a fresh demo evaluator token.
      const demo = await ensureDemoEvaluator(root);
      await serveCommand({ db: root, port, host: '127.0.0.1', signInToken: demo.token });
      return new Promise<number>(() => undefined); // serve until stopped
    },
  },
  schedule: {
    summary: 'serve the dashboards and start pipeline runs on the cron schedule (closeloop.config.json), by --run-now and by POST /api/admin/run',
    usage: 'closeloop schedule [--db DIR] [--port N] [--host ADDR] [--inbox DIR] [--run-now]',
    options: { ...DB, port: { type: 'string' }, host: { type: 'string' }, inbox: { type: 'string' }, 'run-now': { type: 'boolean' } },
    async run(v) {
      const { configPath, loadConfig } = await import('../models/config.ts');
      const { parsePort } = await import('../server/cli.ts');
      const { scheduleCommand } = await import('./schedule.ts');
      let port: number | undefined;
      try {
        port = parsePort(v.port as string | undefined);
      } catch (err) {
        throw new UsageError((err as Error).message);
      }
      const inbox = v.inbox ? resolve(v.inbox as string) : undefined;
      if (inbox) await requireFolder(inbox, 'inbox');
      const config = await loadConfig(configPath());
      await scheduleCommand({ root: resolve(v.db as string), inbox, port, host: v.host as string | undefined, runNow: Boolean(v['run-now']), schedule: config.schedule });
      return new Promise<number>(() => undefined); // serve until stopped
    },
  },
  runs: {
    summary: 'the run history: outcome, phases, files, rows and quality checks of every run',
    usage: 'closeloop runs [--limit N] [--json] [--db DIR]',
    options: { ...DB, limit: { type: 'string', default: '20' }, json: { type: 'boolean' } },
    async run(v) {
      const { formatHistory, readHistory } = await import('./ops.ts');
      const root = resolve(v.db as string);
      const records = await readHistory(root, positiveInt(v.limit as string, '--limit'));
      if (v.json) console.log(JSON.stringify(records, null, 2));
      else console.log(formatHistory(records, (await readPointer(storePaths(root)))?.run_id ?? null));
      return 0;
    },
  },
  rollback: {
    summary: 'switch the published generation back to the previous kept one (or to --to RUN_ID); a running server follows',
    usage: 'closeloop rollback [--to RUN_ID] [--db DIR]',
    options: { ...DB, to: { type: 'string' } },
    async run(v) {
      const { rollback, RollbackRefused } = await import('./ops.ts');
      try {
        const r = await rollback(resolve(v.db as string), v.to as string | undefined);
        console.log(`Rolled back: run ${r.to.run_id} (as of ${r.to.as_of}) is published again, in place of ${r.from.run_id}.`);
        return 0;
      } catch (err) {
        if (err instanceof RollbackRefused) {
          console.error(`closeloop rollback: ${err.message}`);
          return 1;
        }
        throw err;
      }
    },
  },
  quarantine: {
    summary: 'list the quarantined rows with their file, line, rules, status and raw record (person-level: this machine only, never served)',
    usage: 'closeloop quarantine [--file NAME] [--rule RULE] [--status open|resolved|superseded|all] [--json|--csv] [--db DIR]',
    options: { ...DB, file: { type: 'string' }, rule: { type: 'string' }, status: { type: 'string', default: 'open' }, json: { type: 'boolean' }, csv: { type: 'boolean' } },
    async run(v) {
      const { listQuarantine, QuarantineRefused } = await import('./quarantine.ts');
      if (v.json && v.csv) throw new UsageError('choose one of --json and --csv');
      try {
        await listQuarantine({
          root: resolve(v.db as string), file: v.file as string | undefined, rule: v.rule as string | undefined, status: v.status as string,
          format: v.json ? 'json' : v.csv ? 'csv' : 'text', write: (t) => process.stdout.write(t), note: (t) => console.error(t),
        });
        return 0;
      } catch (err) {
        if (err instanceof QuarantineRefused) throw new UsageError(err.message);
        throw err;
      }
    },
  },
  users: {
    summary: 'add, list, revoke users (evaluator, staff, partner, admin) and rotate their tokens',
    usage: 'closeloop users add --name N --role evaluator|staff|partner|admin [--org ORG] [--expires YYYY-MM-DD | --days N] [--db DIR]\n' +
      '       closeloop users list [--all] [--json] [--db DIR]\n' +
      '       closeloop users revoke ID|NAME [--db DIR]\n' +
      '       closeloop users rotate ID|NAME [--expires YYYY-MM-DD | --days N] [--db DIR]',
    options: { ...DB, name: { type: 'string' }, role: { type: 'string' }, org: { type: 'string' }, expires: { type: 'string' }, days: { type: 'string' }, all: { type: 'boolean' }, json: { type: 'boolean' } },
    positionals: 2,
    async run(v, args) {
      const { usersCommand, UserError } = await import('../server/auth/cli.ts');
      try {
        return await usersCommand(args?.[0], args?.[1], { ...v, db: resolve(v.db as string) } as Parameters<typeof usersCommand>[2]);
      } catch (err) {
        if (err instanceof UserError) throw new UsageError(err.message);
        throw err;
      }
    },
  },
  audit: {
    summary: 'show the audit log (sign-ins, refusals, downloads, user changes) or, with --access, the access log',
    usage: 'closeloop audit [--since YYYY-MM-DD|ISO] [--user ID|NAME] [--kind signin|signout|authorization|download|user] [--limit N] [--access] [--json] [--db DIR]',
    options: { ...DB, since: { type: 'string' }, user: { type: 'string' }, kind: { type: 'string' }, limit: { type: 'string' }, access: { type: 'boolean' }, json: { type: 'boolean' } },
    async run(v) {
      const { auditCommand, UserError } = await import('../server/auth/cli.ts');
      try {
        return await auditCommand({ ...v, db: resolve(v.db as string) } as Parameters<typeof auditCommand>[0]);
      } catch (err) {
        if (err instanceof UserError) throw new UsageError(err.message);
        throw err;
      }
    },
  },
};

class UsageError extends Error {}

async function requireFolder(path: string, what: string) {
  const st = await stat(path).catch(() => null);
  if (!st) throw new UsageError(`${what} ${path} does not exist`);
  if (!st.isDirectory()) throw new UsageError(`${what} ${path} is not a folder`);
}

const isIsoDate = (s: string) => /^\d{4}-\d{2}-\d{2}$/.test(s) && !Number.isNaN(Date.parse(`${s}T00:00:00Z`)) && new Date(`${s}T00:00:00Z`).toISOString().startsWith(s);

function positiveInt(s: string, name: string, allowZero = false): number {
  const n = Number(s);
  if (!/^\d+$/.test(s) || (!allowZero && n === 0)) throw new UsageError(`${name} must be a whole number${allowZero ? '' : ' above 0'}, got "${s}"`);
  return n;
}

/** --engine, --pg and --pg-worker over the configuration's engine (flags win). */
function engineFromFlags(v: Record<string, unknown>, configured: EngineSetting, schema: typeof import('../models/config.ts').EngineSetting): EngineSetting {
  const kind = (v.engine as string | undefined) ?? (v.pg ? 'postgres' : configured.kind);
  const workers = v['pg-worker'] as string[] | undefined;
  if (kind === 'duckdb') {
    if (v.pg || workers) throw new UsageError('--pg and --pg-worker go with --engine postgres');
    if (v.explain) throw new UsageError('--explain shows PostgreSQL plans: it goes with --engine postgres');
    return { kind };
  }
  if (kind !== 'postgres') throw new UsageError(`--engine must be duckdb or postgres, got "${kind}"`);
  const url = (v.pg as string | undefined) ?? (configured.kind === 'postgres' ? configured.url : undefined);
  if (!url) throw new UsageError('--engine postgres needs --pg postgresql://user@host:port/database (or engine.url in closeloop.config.json)');
  const parsed = schema.safeParse({
    kind, url, workers: workers ?? (configured.kind === 'postgres' ? configured.workers : []),
    ...(configured.kind === 'postgres' ? { workMem: configured.workMem } : {}),
  });
  if (!parsed.success) {
    const i = parsed.error.issues[0];
    throw new UsageError(`${i?.path[0] === 'workers' ? '--pg-worker' : '--pg'}: ${i?.message}`);
  }
  return parsed.data;
}

function printSummary(s: RunSummary) {
  for (const x of s.skipped) console.log(`  skipped: ${x.file}: ${x.reason}`);
  if (s.status === 'unchanged') {
    for (const f of s.files.filter((x) => x.rejected)) console.log(`  not read: ${f.message}`);
    return;
  }
  const read = s.files.reduce((a, f) => a + f.rows_read, 0);
  const loaded = s.files.reduce((a, f) => a + f.rows_loaded, 0);
  const quarantined = s.files.reduce((a, f) => a + f.rows_quarantined, 0);
  const rejected = s.files.filter((f) => f.rejected);
  console.log('');
  if (s.status === 'failed' || s.status === 'blocked') console.log(`Run ${s.status}: ${s.message}. The last published generation is untouched.`);
  else {
    console.log(`Published run ${s.run_id} as of ${s.as_of}: ${s.files.length} file(s), ${read.toLocaleString('en-US')} rows read, ` +
      `${loaded.toLocaleString('en-US')} loaded, ${quarantined.toLocaleString('en-US')} quarantined, ${s.metrics_rows.toLocaleString('en-US')} metric rows, ${s.seconds.toFixed(1)} s.`);
    for (const f of s.files.filter((x) => x.message && !x.rejected)) console.log(`  note: ${f.message}`);
  }
  for (const f of rejected) console.log(`  rejected: ${f.message}`);
}

async function writeReport(path: string, s: RunSummary) {
  const report = {
    run_id: s.run_id, status: s.status, as_of: s.as_of,
    files: s.files.map((f) => ({ file: f.file, entity: f.entity, rows_read: f.rows_read, rows_loaded: f.rows_loaded, rows_quarantined: f.rows_quarantined, rejected: f.rejected, message: f.message, reasons: f.reasons })),
    skipped: s.skipped, metrics_rows: s.metrics_rows, seconds: s.seconds, message: s.message, phases: s.phases,
  };
  await mkdir(dirname(resolve(path)), { recursive: true });
  await writeFile(path, `${JSON.stringify(report, null, 2)}\n`);
}

function help(): string {
  const lines = ['closeloop: outcomes measurement for coordinated health and social care', '', 'Commands:'];
  for (const [name, c] of Object.entries(COMMANDS)) lines.push(`  ${name.padEnd(10)} ${c.summary}`);
  lines.push('', 'Run `closeloop <command> --help` for its options.');
  return lines.join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(help());
    return name ? 0 : 1;
  }
  const cmd = COMMANDS[name];
  if (!cmd) {
    console.error(`closeloop: unknown command "${name}". Commands: ${Object.keys(COMMANDS).join(', ')}.`);
    return 1;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(`${cmd.usage}\n\n${cmd.summary}`);
    return 0;
  }
  try {
    const { values, positionals } = parseArgs({ args: rest, options: cmd.options, allowPositionals: true, strict: true });
    if (positionals.length > (cmd.positionals ?? 0)) throw new UsageError(`unexpected argument "${positionals[cmd.positionals ?? 0]}"`);
    return await cmd.run(values as Record<string, string | boolean | undefined>, positionals);
  } catch (err) {
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      console.error(`closeloop ${name}: ${(err as Error).message}\nusage: ${cmd.usage}`);
      return 1;
    }
    if (err instanceof WriterBusy || err instanceof NothingPublished) {
      console.error(`closeloop ${name}: ${err.message}`);
      return 1;
    }
    throw err;
  }
}
