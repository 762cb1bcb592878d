// Number formats for tables and tiles. A withheld figure is "n<11", never 0.
export const SUPPRESSED_LABEL = 'n<11';

const nf = (digits) => new Intl.NumberFormat('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 });
const int = nf(0);
const one = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1, minimumFractionDigits: 1 });
const two = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2, minimumFractionDigits: 2 });

export function formatValue(v, format) {
  if (v === null || v === undefined || v === '') return null;
  switch (format) {
    case 'percent':
      return `${(v * 100).toFixed(1)}%`;
    case 'number':
      return int.format(v);
    case 'days':
      return `${int.format(v)}`;
    case 'dollars':
      return `$${nf(2).format(v)}`;
    case 'fixed2':
      // one column, one number of decimals (a ratio column compares rows)
      return v !== 0 && Math.abs(v) < 0.005 ? '<0.01' : two.format(v);
    case 'decimal':
      return Math.abs(v) >= 100 ? one.format(v) : Math.abs(v) >= 1 ? nf(2).format(v) : nf(4).format(v);
    case 'boolean':
      return v === true ? 'yes' : v === false ? 'no' : String(v);
    default:
      return Array.isArray(v) ? v.join('; ') : String(v);
  }
}

/** The display format of a metric's value. */
export function metricFormat(metric) {
  if (!metric) return 'decimal';
  if (metric.kind === 'proportion' || metric.kind === 'incidence') return 'percent';
  if (metric.kind === 'rate' && String(metric.unit).startsWith('USD')) return 'dollars';
  if (metric.kind === 'duration' || metric.kind === 'count') return 'number';
  return 'decimal';
}

export function formatMetricValue(v, metric) {
  const f = metricFormat(metric);
  if (v === null || v === undefined) return null;
  if (metric.kind === 'duration') return `${int.format(v)} days`;
  if (metric.kind === 'rate' && f !== 'dollars') return one.format(v);
  if (metric.kind === 'mean') return `${v > 0 ? '+' : ''}${one.format(v)}`;
  return formatValue(v, f);
}

export function periodLabel(grain, start) {
  if (!start) return '';
  const [y, m] = start.split('-');
  if (grain === 'year') return y;
  if (grain === 'quarter') return `${y} Q${Math.floor((Number(m) - 1) / 3) + 1}`;
  if (grain === 'month') return new Date(`${start}T00:00:00Z`).toLocaleString('en-US', { month: 'short', year: 'numeric', timeZone: 'UTC' });
  return 'whole span';
}

export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}
