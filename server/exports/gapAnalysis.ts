// A partner's gap analysis as files: the gap table for the counties it serves, with its
// own referral figures beside the area's. CSV: one row per gap cell, the partner and area
// figures as columns beside the cell's; XLSX: a cover, the referral figures, the gap table.
import ExcelJS from 'exceljs';
import type { partnerGapAnalysis } from '../data/gaps.ts';
import { SUPPRESSION_NOTE } from './report.ts';
import { toCsv, type CsvColumn } from './csv.ts';
import { neutraliseText } from './neutralise.ts';

type GapAnalysis = Awaited<ReturnType<typeof partnerGapAnalysis>>;

const FIGURE_SHORT: Record<string, string> = {
  referral_acceptance_rate: 'acceptance_rate',
  closed_loop_rate: 'closed_loop_rate',
  need_met_rate: 'need_met_rate',
  days_to_close: 'median_days_to_close',
  stale_open_referrals: 'stale_open_referrals',
};

/** Gap cell columns in a stable order (whatever the published table adds follows). */
export function gapColumnOrder(rows: Array<Record<string, unknown>>): string[] {
  const first = ['rank', 'domain', 'domain_label', 'county_fips', 'county_name', 'positive_needs', 'needs_measurable', 'needs_met', 'unmet_needs', 'unmet_need_rate', 'unmet_ci_low', 'unmet_ci_high',
    'no_capacity_referrals', 'closed_not_met_referrals', 'capacity_rejection_share', 'capacity_months', 'demand_capacity_ratio', 'capacity_note', 'note', 'known_monthly_capacity',
    'programs_capacity_unknown', 'suppressed', 'your_programs', 'other_providers', 'period_start', 'period_end'];
  const present = new Set(rows.flatMap((r) => Object.keys(r)));
  return [...first.filter((c) => present.has(c)), ...[...present].filter((c) => !first.includes(c))];
}

const gapColumns = (g: GapAnalysis) => gapColumnOrder(g.gaps);

function figureColumns(g: GapAnalysis): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of g.figures) {
    const s = FIGURE_SHORT[f.metric_id] ?? f.metric_id;
    out[`partner_${s}`] = f.org?.suppressed ? null : (f.org?.value ?? null);
    out[`area_${s}`] = f.area?.suppressed ? null : (f.area?.value ?? null);
  }
  return out;
}

export function gapAnalysisCsv(g: GapAnalysis): { csv: string; rows: number } {
  const figures = figureColumns(g);
  const cols: CsvColumn[] = [{ key: 'org_id' }, ...gapColumns(g).map((key) => ({ key })), ...Object.keys(figures).map((key) => ({ key }))];
  const rows = g.gaps.map((r) => ({ org_id: g.org.org_id, ...r, ...figures }));
  return { csv: toCsv(cols, rows), rows: rows.length };
}

export async function gapAnalysisXlsx(g: GapAnalysis): Promise<{ buffer: Buffer; rows: number }> {
  const wb = new ExcelJS.Workbook();
  wb.creator = 'closeloop';
  const cover = wb.addWorksheet('Cover');
  cover.columns = [{ width: 26 }, { width: 100 }];
  const line = (a: ExcelJS.CellValue, b: ExcelJS.CellValue) => {
    const r = cover.addRow([a, b].map((v) => (typeof v === 'string' ? neutraliseText(v) : v)));
    r.getCell(1).font = { bold: true };
    r.getCell(2).alignment = { wrapText: true, vertical: 'top' };
    return r;
  };
  cover.addRow(['closeloop gap analysis']).getCell(1).font = { bold: true, size: 16 };
  cover.addRow([]);
  line('Organization', `${g.org.org_name} (${g.org.org_id})`);
  line('Counties served', g.counties.map((c) => c.county).join(', '));
  const asOf = line('As-of date', new Date(`${g.run.as_of}T00:00:00Z`));
  asOf.getCell(2).numFmt = 'yyyy-mm-dd';
  asOf.getCell(2).alignment = { horizontal: 'left' };
  line('Run id', g.run.run_id);
  line('What this is', 'Need domain x county cells of the counties you serve, ranked by unmet positive needs (needs whose 90-day window has passed minus those met), with your referral figures beside the whole area\'s. Other organizations\' figures are never shown.');
  line('Suppression', SUPPRESSION_NOTE).height = 60;

  const fig = wb.addWorksheet('Referral figures', { views: [{ state: 'frozen', ySplit: 1 }] });
  fig.columns = [
    { header: 'measure', key: 'measure', width: 40 },
    { header: 'unit', key: 'unit', width: 30 },
    { header: 'partner_value', key: 'pv', width: 14, style: { numFmt: '0.000' } },
    { header: 'partner_ci_low', key: 'pl', width: 14, style: { numFmt: '0.000' } },
    { header: 'partner_ci_high', key: 'ph', width: 14, style: { numFmt: '0.000' } },
    { header: 'partner_denominator', key: 'pd', width: 16, style: { numFmt: '#,##0' } },
    { header: 'partner_suppressed', key: 'ps', width: 16 },
    { header: 'area_value', key: 'av', width: 14, style: { numFmt: '0.000' } },
    { header: 'area_ci_low', key: 'al', width: 14, style: { numFmt: '0.000' } },
    { header: 'area_ci_high', key: 'ah', width: 14, style: { numFmt: '0.000' } },
    { header: 'area_denominator', key: 'ad', width: 16, style: { numFmt: '#,##0' } },
  ];
  fig.getRow(1).font = { bold: true };
  for (const f of g.figures) {
    fig.addRow({
      measure: neutraliseText(f.title), unit: neutraliseText(f.unit),
      pv: f.org?.value ?? null, pl: f.org?.ci_low ?? null, ph: f.org?.ci_high ?? null, pd: f.org?.denominator ?? null, ps: f.org ? f.org.suppressed === true : null,
      av: f.area?.value ?? null, al: f.area?.ci_low ?? null, ah: f.area?.ci_high ?? null, ad: f.area?.denominator ?? null,
    });
  }

  const cols = gapColumns(g);
  const gaps = wb.addWorksheet('Gap table', { views: [{ state: 'frozen', ySplit: 1 }] });
  gaps.columns = cols.map((c) => ({
    header: c, key: c,
    width: c === 'your_programs' ? 40 : Math.max(12, Math.min(30, c.length + 2)),
    style: /rate|share|ci_|ratio/.test(c) ? { numFmt: '0.000' } : /^period_/.test(c) ? { numFmt: 'yyyy-mm-dd' } : /needs|capacity_months|monthly_capacity|rank|providers|referrals|unknown/.test(c) ? { numFmt: '#,##0' } : {},
  }));
  gaps.getRow(1).font = { bold: true };
  for (const r of g.gaps) {
    gaps.addRow(Object.fromEntries(cols.map((c) => {
      const v = (r as Record<string, unknown>)[c];
      if (v === null || v === undefined) return [c, null];
      if (/^period_/.test(c) && typeof v === 'string') return [c, new Date(`${v}T00:00:00Z`)];
      if (typeof v === 'string') return [c, neutraliseText(v)];
      if (Array.isArray(v)) return [c, neutraliseText(v.join('; '))];
      return [c, v];
    })));
  }
  const buffer = Buffer.from(await wb.xlsx.writeBuffer());
  return { buffer, rows: g.gaps.length };
}
