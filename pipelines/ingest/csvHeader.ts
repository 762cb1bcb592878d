/**
 * Split one CSV record (comma separated, '"' quote and escape) into its fields the way
 * DuckDB's reader does (see scanFile.ts): a quote opens a field only at its start or
 * after one space; `""` inside quotes is a quote; after a closing quote, spaces then a
 * quote reopen the field (the spaces are kept), spaces at the end are dropped.
 */
export function parseCsvRecord(text: string): string[] {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    let field = '';
    const quoted = text[i] === '"' || (text[i] === ' ' && text[i + 1] === '"');
    if (quoted) {
      i = text.indexOf('"', i) + 1;
      for (;;) {
        const q = text.indexOf('"', i);
        if (q < 0) {
          field += text.slice(i); // never closed: the rest of the text
          i = text.length;
          break;
        }
        field += text.slice(i, q);
        i = q + 1;
        if (text[i] === '"') {
          field += '"';
          i++;
          continue;
        }
        let j = i;
        while (text[j] === ' ') j++;
        if (text[j] === '"') {
          field += text.slice(i, j); // reopened after spaces
          i = j + 1;
          continue;
        }
        i = j;
        break;
      }
    }
    const comma = text.indexOf(',', i);
    const end = comma < 0 ? text.length : comma;
    field += text.slice(i, end); // unquoted text (or text after a closing quote)
    fields.push(field);
    if (comma < 0) return fields;
    i = comma + 1;
  }
}
