/** Split one CSV record (RFC 4180 quoting, comma separated) into its fields. */
export function parseCsvRecord(text: string): string[] {
  const fields: string[] = [];
  let field = '';
  let inQuote = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (inQuote) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else inQuote = false;
      } else field += ch;
    } else if (ch === '"' && field === '') inQuote = true;
    else if (ch === ',') {
      fields.push(field);
      field = '';
    } else field += ch;
  }
  fields.push(field);
  return fields;
}

/** Header names are matched case-insensitively after trimming. */
export const normaliseHeader = (name: string) => name.trim().toLowerCase();
