// Laney p' and u' charts against published worked examples.
//
// p': the weekly NHS England A&E data of Mohammed, Panesar, Laney and Wilson (2013),
// "Statistical process control charts for attribute data involving very large sample
// sizes", BMJ Quality & Safety 22:362-368, Table 1 (attendances seen within 4 hours / all
// attendances, 20 weeks), also shipped with the R package qicharts2 as `nhs_accidents`.
// The limits below are R's: qicharts2 0.8.1, qic(i, r, n, chart = 'pp'), which follows
// Laney (2002) with d2 = 1.128 and no screening of moving ranges.
//
// u': qicharts2's `hospital_infections` summed over hospitals by month (infections / risk
// days, 24 months), limits from qic(chart = 'up', multiply = 1000).
import { describe, expect, it } from 'vitest';
import { laneyChart, markRuns } from '../../../models/stats/spc.ts';

const NHS_SEEN = [266501, 264225, 276532, 281461, 269071, 261215, 270409, 279778, 270483, 270320, 267923, 271478, 255353, 256820, 261835, 259144, 255910, 260863, 264465, 260989];
const NHS_ALL = [280443, 276823, 291681, 296155, 282343, 275888, 283867, 295251, 284468, 282529, 279618, 283932, 266629, 268091, 276803, 271578, 266005, 273520, 278574, 273772];

describe("Laney p' chart: NHS A&E 4-hour data (Mohammed et al. 2013)", () => {
  const chart = laneyChart('p', NHS_SEEN.map((x, i) => ({ x, n: NHS_ALL[i] as number })))!;

  it('centre line and 3-sigma limits equal R qicharts2 (chart = "pp")', () => {
    expect(chart.centre).toBeCloseTo(0.95289971134419116, 14);
    // week: [lower, upper]
    const R: Record<number, [number, number]> = {
      1: [0.9401296441775141, 0.96566977851086822],
      2: [0.94004641862513627, 0.96575300406324605],
      4: [0.94047300747792362, 0.9653264152104587],
      13: [0.93980301398912502, 0.96599640869925729],
      17: [0.93978766173624928, 0.96601176095213304],
      20: [0.93997499652290417, 0.96582442616547814],
    };
    for (const [week, [lo, hi]] of Object.entries(R)) {
      const p = chart.points[Number(week) - 1]!;
      expect(p.lower, `week ${week} lower`).toBeCloseTo(lo, 12);
      expect(p.upper, `week ${week} upper`).toBeCloseTo(hi, 12);
    }
  });

  it("sigma_z: the limits are over ten times as wide as the p chart's, and no week signals", () => {
    // sigma_z from R's week-1 limits: half-width / (3 * sqrt(c (1 - c) / 280443))
    const sigma1 = Math.sqrt((chart.centre * (1 - chart.centre)) / 280443);
    expect(chart.sigmaZ).toBeCloseTo((0.96566977851086822 - 0.95289971134419116) / (3 * sigma1), 9);
    expect(chart.sigmaZ).toBeGreaterThan(10);
    // On the plain p chart (R: week 1 limits 0.95170-0.95410) 16 of 20 weeks lie outside;
    // on the p' chart none does, and no run of 8 lies on one side.
    expect(chart.points.filter((p) => p.beyondLimits)).toEqual([]);
    expect(chart.points.filter((p) => p.inRun)).toEqual([]);
    const plain = NHS_SEEN.filter((x, i) => Math.abs(x / NHS_ALL[i]! - chart.centre) > 3 * Math.sqrt((chart.centre * (1 - chart.centre)) / NHS_ALL[i]!));
    expect(plain.length).toBe(16);
  });
});

describe("Laney u' chart: hospital infections by month (qicharts2)", () => {
  const x = [575, 521, 585, 528, 507, 519, 457, 505, 494, 512, 543, 506, 509, 521, 549, 531, 509, 528, 419, 512, 495, 513, 454, 490];
  const n = [310466.83333329321, 282346.79166671709, 309089.70833330322, 287977.33333316818, 297743.37500002852, 286988.25000001001, 261120.33333336981, 268720.75000004529,
    284437.87500012899, 290449.49999993952, 288104.45833330858, 279961.37499995198, 289803.95833335089, 275950.58333331929, 290824.45833333238, 285495.75000004098,
    282515.20833329752, 273927.8750000195, 253085.624999983, 262410.7083333832, 275529.25000001222, 282405.08333336539, 259530.7916666563, 256235.45833330762];
  const chart = laneyChart('u', x.map((xi, i) => ({ x: xi, n: n[i] as number })))!;

  it('centre and limits per 1,000 risk days equal R qicharts2 (chart = "up", multiply = 1000)', () => {
    expect(chart.centre * 1000).toBeCloseTo(1.8235751654857593, 12);
    const R: Record<number, [number, number]> = {
      1: [1.5763817754848699, 2.0707685554866484],
      7: [1.5540346133066751, 2.0931157176648432],
      19: [1.5497894911090633, 2.0973608398624553],
      24: [1.5514774813533132, 2.0956728496182051],
    };
    for (const [month, [lo, hi]] of Object.entries(R)) {
      const p = chart.points[Number(month) - 1]!;
      expect(p.lower * 1000, `month ${month} lower`).toBeCloseTo(lo, 10);
      expect(p.upper * 1000, `month ${month} upper`).toBeCloseTo(hi, 10);
    }
    expect(chart.points.some((p) => p.beyondLimits)).toBe(false);
  });
});

describe('special-cause signals (hand-worked)', () => {
  it('a point beyond the limits', () => {
    // 10 months of 100: nine with 10 events, then 40. c = 130/1000 = 0.13, sigma_i = sqrt(0.13 * 0.87 / 100) = 0.033630;
    // z = -0.03 / sigma (x9) and 0.27 / sigma; the only non-zero moving range is 0.30 / sigma, so
    // mean MR = 0.30 / (9 sigma), sigma_z = 0.30 / (9 * 1.128 * sigma) = 0.878695 and the half-width is
    // 3 * sigma_z * sigma = 0.1 / 1.128 = 0.088652: limits [0.041348, 0.218652]; 0.40 is beyond.
    const c = laneyChart('p', [10, 10, 10, 10, 10, 10, 10, 10, 10, 40].map((x) => ({ x, n: 100 })))!;
    expect(c.centre).toBeCloseTo(0.13, 12);
    expect(c.sigmaZ).toBeCloseTo(0.3 / (9 * 1.128 * Math.sqrt(0.13 * 0.87 / 100)), 12);
    expect(c.sigmaZ).toBeCloseTo(0.878695, 6);
    expect(c.points[9]!.lower).toBeCloseTo(0.13 - 0.1 / 1.128, 12);
    expect(c.points[9]!.upper).toBeCloseTo(0.13 + 0.1 / 1.128, 12);
    expect(c.points.map((p) => p.beyondLimits)).toEqual([false, false, false, false, false, false, false, false, false, true]);
    // the nine months below the centre are a run of 9 on one side
    expect(c.points.map((p) => p.inRun)).toEqual([true, true, true, true, true, true, true, true, true, false]);
  });

  it('8 consecutive points on one side of the centre line, and not 7; a point on the line breaks a run', () => {
    const pts = (vs: number[]) => vs.map((value) => ({ value, inRun: false }));
    const eight = pts([1, 2, 2, 2, 2, 2, 2, 2, 2, 0]);
    markRuns(eight, 1.5);
    expect(eight.map((p) => p.inRun)).toEqual([false, true, true, true, true, true, true, true, true, false]);
    const seven = pts([2, 2, 2, 2, 2, 2, 2, 1]);
    markRuns(seven, 1.5);
    expect(seven.some((p) => p.inRun)).toBe(false);
    const broken = pts([2, 2, 2, 2, 1.5, 2, 2, 2, 2]);
    markRuns(broken, 1.5);
    expect(broken.some((p) => p.inRun)).toBe(false);
  });

  it('needs two periods with units', () => {
    expect(laneyChart('p', [{ x: 1, n: 10 }])).toBeNull();
    expect(laneyChart('u', [{ x: 1, n: 10 }, { x: 1, n: 0 }])).toBeNull();
  });
});
