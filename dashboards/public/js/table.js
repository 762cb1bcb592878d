// Tables: the text alternative of every chart and the page's own tables. A withheld cell
// reads "n<11" (with a title explaining why); an empty one "–".
import { el, formatValue, SUPPRESSED_LABEL } from './format.js';

const NUMERIC = new Set(['percent', 'number', 'decimal', 'fixed2', 'days', 'dollars']);

/** Format of a cell; scorecard-like rows carry their own kind. */
function cellFormat(col, row) {
  if (col.format === 'decimal' && row.kind === 'proportion' && ['value', 'ci_low', 'ci_high'].includes(col.key)) return 'percent';
  return col.format;
}

export function renderTable(columns, rows, { caption, limit, rowClass } = {}) {
  const table = el('table', { class: 'data' });
  if (caption) table.append(el('caption', { text: caption }));
  const head = el('tr', {}, columns.map((c) => el('th', { scope: 'col', text: c.title ?? c.key })));
  table.append(el('thead', {}, head));
  const body = el('tbody');
  const shown = limit ? rows.slice(0, limit) : rows;
  for (const r of shown) {
    const tr = el('tr', { class: rowClass ? rowClass(r) : undefined });
    for (const c of columns) {
      const f = cellFormat(c, r);
      const v = r[c.key];
      const text = formatValue(v, f);
      const numeric = NUMERIC.has(f);
      if (text === null && numeric && r.suppressed === true && typeof r.note === 'string' && r.note.startsWith('withheld from partner views')) {
        // withheld from a partner's view (another organisation could be singled out): not a small cell
        tr.append(el('td', { class: 'num suppressed', title: `${r.note}. Not zero; may be more than 10.` }, el('span', { text: 'withheld' })));
      } else if (text === null && numeric && r.suppressed === true) {
        tr.append(el('td', { class: 'num suppressed', title: 'Withheld: fewer than 11 people or events (or protecting such a cell). Not zero.' }, el('span', { text: SUPPRESSED_LABEL })));
      } else if (text === null && numeric && r.missing && c.key === 'value') {
        // a figure that does not exist (a median not reached): not withheld, not zero
        tr.append(el('td', { class: 'num missing', title: 'No figure: not withheld, not zero.' }, el('em', { text: r.missing })));
      } else if (text === null) {
        tr.append(el('td', { class: numeric ? 'num' : undefined, title: 'not available' }, '–'));
      } else {
        tr.append(el('td', { class: numeric ? 'num' : undefined, text }));
      }
    }
    body.append(tr);
  }
  table.append(body);
  if (limit && rows.length > limit) {
    return el('div', {}, table, el('p', { class: 'intro', text: `First ${limit} of ${rows.length} rows; the download has them all.` }));
  }
  return table;
}
