// Member-months one window of whole days can add up to, wherever it falls in the calendar
// (each month counts days in it / days of it). A person in a pre/post-referral cohort
// contributes exactly one 180-day window, so published member-months tell how many people
// are behind them to within these bounds (issue 14, route 6).

const DAY = 86_400_000;

function monthsOf(startMs: number, days: number): number {
  let mm = 0;
  let t = startMs;
  let left = days;
  while (left > 0) {
    const d = new Date(t);
    const y = d.getUTCFullYear();
    const m = d.getUTCMonth();
    const monthDays = new Date(Date.UTC(y, m + 1, 0)).getUTCDate();
    const inMonth = Math.min(left, monthDays - d.getUTCDate() + 1);
    mm += inMonth / monthDays;
    left -= inMonth;
    t += inMonth * DAY;
  }
  return mm;
}

const cache = new Map<number, { min: number; max: number }>();

/** The least and most member-months a window of `days` days can make (over 2000-2099 start dates). */
export function windowMonthBounds(days: number): { min: number; max: number } {
  const hit = cache.get(days);
  if (hit) return hit;
  let min = Infinity;
  let max = -Infinity;
  for (let t = Date.UTC(2000, 0, 1); t < Date.UTC(2100, 0, 1); t += DAY) {
    const mm = monthsOf(t, days);
    if (mm < min) min = mm;
    if (mm > max) max = mm;
  }
  const out = { min, max };
  cache.set(days, out);
  return out;
}
