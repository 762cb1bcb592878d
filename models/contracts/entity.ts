import { z } from 'zod';
import { columnMeta, type ColumnMeta } from './columns.ts';

/** Rules that look at more than one column; checked after the column rules. */
export type CrossRule =
  /** `column` must be on or after `notBefore` when both are set. */
  | { rule: 'date_order'; column: string; notBefore: string }
  /** `column` is required when `when` is set (or, with `in`, has one of those values). */
  | { rule: 'missing_required'; column: string; when: string; in?: readonly string[] }
  /** When every item is present their sum must equal `column`. */
  | { rule: 'items_do_not_sum'; column: string; items: readonly string[] };

export interface EntityContract<S extends z.ZodRawShape = z.ZodRawShape> {
  name: string;
  title: string;
  description: string;
  /** Columns that identify a row; a later row with the same key replaces the earlier. */
  key: readonly string[];
  schema: z.ZodObject<S>;
  crossRules: readonly CrossRule[];
}

export interface ContractColumn extends ColumnMeta {
  name: string;
}

export function defineEntity<S extends z.ZodRawShape>(e: EntityContract<S>): EntityContract<S> {
  const names = Object.keys(e.schema.shape);
  for (const k of e.key) if (!names.includes(k)) throw new Error(`${e.name}: key column ${k} is not a column`);
  for (const r of e.crossRules) {
    const refs = [r.column, ...(r.rule === 'date_order' ? [r.notBefore] : r.rule === 'missing_required' ? [r.when] : r.items)];
    for (const c of refs) if (!names.includes(c)) throw new Error(`${e.name}: rule ${r.rule} names unknown column ${c}`);
  }
  return e;
}

export function contractColumns(e: EntityContract): ContractColumn[] {
  return Object.entries(e.schema.shape).map(([name, schema]) => ({ name, ...columnMeta(schema as z.ZodType) }));
}
