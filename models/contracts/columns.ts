// Column builders for the data contract. Each builder returns a zod schema for the
// *normalised* value (trimmed, enums lower-cased, dates as YYYY-MM-DD strings) and
// attaches a ColumnMeta that the loader turns into SQL validation, so the zod
// schemas stay the single source of column lists, types, enums and rules.
import { z } from 'zod';

export type ColumnKind = 'id' | 'date' | 'int' | 'decimal' | 'enum' | 'text' | 'digits5' | 'language';

export interface ColumnMeta {
  kind: ColumnKind;
  required: boolean;
  /** Part of the entity's unique key. */
  key?: boolean;
  /** Must name a loaded person (orphan rule). */
  personRef?: boolean;
  values?: readonly string[];
  /** Value an empty cell becomes (enums with a declared default, language). */
  emptyAs?: string;
  min?: number;
  max?: number;
  notFuture?: boolean;
  notBefore?: string;
  note: string;
}

type Opts = { required?: boolean; key?: boolean; personRef?: boolean; note?: string };

const ID_MAX = 64;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

function withMeta<T extends z.ZodType>(schema: T, required: boolean, meta: ColumnMeta) {
  return (required ? schema : schema.nullable()).meta({ ...meta });
}

export const id = (o: Opts = {}) =>
  withMeta(z.string().min(1).max(ID_MAX), o.required ?? false, {
    kind: 'id', required: o.required ?? false, key: o.key, personRef: o.personRef, note: o.note ?? '',
  });

export const text = (o: Opts = {}) =>
  withMeta(z.string().min(1), o.required ?? false, { kind: 'text', required: o.required ?? false, key: o.key, note: o.note ?? '' });

export const date = (o: Opts & { notFuture?: boolean; notBefore?: string } = {}) =>
  withMeta(z.string().regex(ISO_DATE), o.required ?? false, {
    kind: 'date', required: o.required ?? false, key: o.key, notFuture: o.notFuture, notBefore: o.notBefore, note: o.note ?? '',
  });

export const int = (o: Opts & { min?: number; max?: number } = {}) => {
  let s = z.number().int();
  if (o.min !== undefined) s = s.min(o.min);
  if (o.max !== undefined) s = s.max(o.max);
  return withMeta(s, o.required ?? false, { kind: 'int', required: o.required ?? false, min: o.min, max: o.max, note: o.note ?? '' });
};

export const decimal = (o: Opts & { min?: number } = {}) => {
  let s = z.number();
  if (o.min !== undefined) s = s.min(o.min);
  return withMeta(s, o.required ?? false, { kind: 'decimal', required: o.required ?? false, min: o.min, note: o.note ?? '' });
};

export const enumOf = <const V extends readonly [string, ...string[]]>(values: V, o: Opts & { emptyAs?: V[number] } = {}) => {
  // A column with a default is never null after loading.
  const required = (o.required ?? false) || o.emptyAs !== undefined;
  return withMeta(z.enum(values), required, {
    kind: 'enum', required: o.required ?? false, key: o.key, values, emptyAs: o.emptyAs, note: o.note ?? '',
  });
};

export const digits5 = (o: Opts = {}) =>
  withMeta(z.string().regex(/^\d{5}$/), o.required ?? false, { kind: 'digits5', required: o.required ?? false, key: o.key, note: o.note ?? '' });

export const language = (o: Opts = {}) =>
  z.string().regex(/^([a-z]{2,3}|unknown)$/).meta({ kind: 'language', required: false, emptyAs: 'unknown', note: o.note ?? '' } satisfies ColumnMeta);

export function columnMeta(schema: z.ZodType): ColumnMeta {
  const meta = schema.meta() as ColumnMeta | undefined;
  if (!meta?.kind) throw new Error('contract column without ColumnMeta');
  return meta;
}
