// `closeloop contract`: the data contract as markdown, generated from the zod
// contracts so the documentation cannot drift from what the loader enforces.
import { DEFAULT_MISSING_VALUES } from '../../pipelines/ingest/mapping.ts';
import { RULES } from '../../pipelines/ingest/rules.ts';
import { contractColumns, type ContractColumn } from './entity.ts';
import { ENTITIES } from './index.ts';
import { LANGUAGE_NAMES, LANGUAGE_RULES } from './languages.ts';

function typeOf(c: ContractColumn): string {
  switch (c.kind) {
    case 'enum':
      return `enum(${(c.values ?? []).join(', ')})`;
    case 'int':
      return c.min !== undefined && c.max !== undefined ? `int ${c.min}..${c.max}` : c.min !== undefined ? `int >= ${c.min}` : 'int';
    case 'decimal':
      return c.min !== undefined ? `decimal >= ${c.min}` : 'decimal';
    case 'digits5':
      return '5 digits';
    case 'language':
      return 'language (ISO 639)';
    default:
      return c.kind;
  }
}

export function contractMarkdown(): string {
  const out: string[] = ['# closeloop data contract', '', 'Generated from the zod contracts in `models/contracts/`. `*` marks a required column.', ''];
  for (const e of ENTITIES) {
    out.push(`## ${e.name}`, '', e.description, '', `Key: ${e.key.join(' + ')}. File names start with \`${e.name}\` (or a mapping claims them).`, '');
    out.push('| column | type | notes |', '|---|---|---|');
    for (const c of contractColumns(e)) {
      const notes = [c.note, c.emptyAs && !c.note.includes('default') && !c.note.includes('empty ->') ? `empty -> ${c.emptyAs}` : ''].filter(Boolean).join('; ');
      out.push(`| ${c.name}${c.required ? '*' : ''} | ${typeOf(c).replaceAll('|', '\\|')} | ${notes} |`);
    }
    if (e.crossRules.length) {
      out.push('', 'Cross-field rules:');
      for (const r of e.crossRules) {
        if (r.rule === 'date_order') out.push(`- \`date_order\`: ${r.column} >= ${r.notBefore} when both are set`);
        else if (r.rule === 'missing_required') out.push(`- \`missing_required\`: ${r.column} is required when ${r.when} ${r.in ? `is ${r.in.join(', ')}` : 'is set'}`);
        else out.push(`- \`items_do_not_sum\`: when ${r.items[0]}..${r.items.at(-1)} are all present, their sum equals ${r.column}`);
      }
    }
    out.push('');
  }
  out.push('## Empty values', '',
    `Every value is trimmed of spaces, tabs and line breaks. An empty value, or one of the placeholder tokens ${DEFAULT_MISSING_VALUES.join(', ')} ` +
    '(matched exactly), is missing: a required column then breaks `missing_required`. A mapping may replace the list (`"missing_values": [...]`, `[]` for none).', '');
  out.push('## Language values', '', `preferred_language: ${LANGUAGE_RULES}.`, '', '| code | names and codes that become it |', '|---|---|');
  const byCode = new Map<string, string[]>();
  for (const [name, code] of Object.entries(LANGUAGE_NAMES)) byCode.set(code, [...(byCode.get(code) ?? []), name]);
  for (const [code, names] of byCode) out.push(`| ${code} | ${names.join(', ')} |`);
  out.push('');
  out.push('## Rule ids', '', 'Stable ids in the quarantine and run reports.', '', '| rule | meaning |', '|---|---|');
  for (const [id, text] of Object.entries(RULES)) out.push(`| \`${id}\` | ${text} |`);
  out.push('');
  return out.join('\n');
}
