// What each fact and each custom-rows metric reads, in staging entities, found in its SQL
// text: an incremental run recomputes only the facts a changed extract can move and takes
// the others' aggregated parts from the previous generation (engine.ts, "reuse").
//
// Rules: `stg_<entity>` is a direct read; `int_<model>` reads whatever that model's SQL
// reads; int_spans and int_periods hold one row set per span entity, and the SQL that
// uses them names its span (`span_entity = 'screenings'`), so they count as a read of the
// named entities only (all four when none is named). Every fact also reads people and
// coverage: the aggregation joins person attributes and coverage (payer, program) for the
// population dimensions.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { INTERMEDIATE_MODELS, type IntermediateModel } from '../intermediate/index.ts';
import { readSqlFile } from '../intermediate/sql.ts';
import { SPAN_ENTITIES } from './facts.ts';

const PER_SPAN = new Set(['int_spans', 'int_periods']);

function intermediateText(model: string): string {
  return readSqlFile(new URL(`../intermediate/${model}.sql`, import.meta.url));
}

/** Staging entities and intermediate models an SQL text reads (intermediate models followed). */
export function sqlReads(text: string, seen = new Set<string>()): { entities: Set<string>; models: Set<IntermediateModel> } {
  const code = text.replace(/--[^\n]*/g, '');
  const entities = new Set<string>();
  const models = new Set<IntermediateModel>();
  for (const m of code.matchAll(/\bstg_([a-z0-9_]+)/g)) entities.add(m[1] as string);
  const spans = [...code.matchAll(/span_entity\s*=\s*'([a-z0-9_]+)'/g)].map((m) => m[1] as string);
  for (const m of code.matchAll(/\b(int_[a-z0-9_]+)/g)) {
    const model = m[1] as string;
    if (!(INTERMEDIATE_MODELS as readonly string[]).includes(model)) continue;
    models.add(model as IntermediateModel);
    if (PER_SPAN.has(model)) {
      for (const s of spans.length ? spans : SPAN_ENTITIES) entities.add(s);
      // the periods are built from the spans
      if (model === 'int_periods') models.add('int_spans');
      continue;
    }
    if (seen.has(model)) continue;
    seen.add(model);
    const inner = sqlReads(intermediateText(model), seen);
    for (const e of inner.entities) entities.add(e);
    for (const x of inner.models) models.add(x);
  }
  return { entities, models };
}

/**
 * A fingerprint of everything besides the data that shapes the metric parts: the as-of
 * date, the settings, and the engine's own code and SQL. Parts are reused only from a
 * generation with the same fingerprint (an upgrade or a new setting recomputes all).
 */
export function engineFingerprint(settings: unknown): string {
  const h = createHash('sha256').update(JSON.stringify(settings));
  for (const dir of ['../intermediate/', './', './sql/', '../stats/', '../contracts/', '../engines/']) {
    const url = new URL(dir, import.meta.url);
    for (const name of readdirSync(url).filter((n) => /\.(ts|sql)$/.test(n)).sort()) {
      h.update(`${dir}${name}\0`).update(readFileSync(new URL(name, url)));
    }
  }
  return h.digest('hex');
}
