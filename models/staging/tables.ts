// Staging tables: one typed, validated table per entity (dbt's stg_ layer), derived
// from the contracts so a new column needs no second edit.
import { contractColumns, ENTITIES, type ColumnKind, type EntityContract } from '../contracts/index.ts';

const SQL_TYPE: Record<ColumnKind, string> = {
  id: 'VARCHAR', text: 'VARCHAR', enum: 'VARCHAR', digits5: 'VARCHAR', language: 'VARCHAR',
  date: 'DATE', int: 'INTEGER', decimal: 'DECIMAL(18,4)',
};

export const stagingTable = (e: EntityContract | string) => `stg_${typeof e === 'string' ? e : e.name}`;

export function sqlType(kind: ColumnKind): string {
  return SQL_TYPE[kind];
}

/** Lineage columns every staging row carries: where it came from and which run loaded it. */
export const LINEAGE_COLUMNS = [
  { name: '_file', type: 'VARCHAR' },
  { name: '_line', type: 'BIGINT' },
  { name: '_run_id', type: 'VARCHAR' },
] as const;

/** Lineage of one entity only: a coverage row that came from a people row's span (its _file is the people file). */
export const ENTITY_LINEAGE_COLUMNS: Record<string, ReadonlyArray<{ name: string; type: string }>> = {
  coverage: [{ name: '_roster', type: 'BOOLEAN' }],
};

export function stagingDDL(e: EntityContract): string {
  const cols = contractColumns(e).map((c) => `  ${c.name} ${SQL_TYPE[c.kind]}${c.required || c.emptyAs ? ' NOT NULL' : ''}`);
  const lineage = [...LINEAGE_COLUMNS, ...(ENTITY_LINEAGE_COLUMNS[e.name] ?? [])].map((c) => `  ${c.name} ${c.type}`);
  // No PRIMARY KEY: the loader enforces key uniqueness set-wise, and an ART index over
  // millions of VARCHAR keys would cost memory and load time for nothing.
  return `CREATE TABLE IF NOT EXISTS ${stagingTable(e)} (\n${[...cols, ...lineage].join(',\n')}\n)`;
}

export const ALL_STAGING_DDL = ENTITIES.map(stagingDDL);
