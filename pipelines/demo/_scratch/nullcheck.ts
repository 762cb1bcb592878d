import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { generateDemo } from '../generate.ts';
import { NULL_GROUPS, PLANTED, PLANTED_BAD_ROWS } from '../planted.ts';
import { ANALOGS, byGroup, compare } from '../../../test/pipelines/demo/analogs.ts';
const seeds = process.argv.slice(2).map(Number);
const N = Number(process.env.N ?? 20000);
for (const seed of seeds) {
  const dir = `/tmp/nc_${seed}`;
  await generateDemo({ people: N, seed, outDir: dir });
  const inst = await DuckDBInstance.create(':memory:', { threads: '2' });
  const c = await inst.connect();
  const q = async (s: string) => (await c.runAndReadAll(s)).getRowObjectsJson() as Array<Record<string, unknown>>;
  const keys = [...new Set(PLANTED_BAD_ROWS.map((b) => b.key.split('|')[0] ?? ''))].map((k) => `'${k}'`).join(',');
  const src = (e: string) => `read_csv('${dir}/${e}.csv', header = true, all_varchar = true)`;
  await c.run(`
    CREATE TABLE person AS SELECT person_id, coalesce(sex,'unknown') sex, coalesce(race_ethnicity,'unknown') race_ethnicity,
      CASE WHEN preferred_language IS NULL OR lower(preferred_language)='unknown' THEN 'unknown' WHEN lower(preferred_language)='en' THEN 'no' ELSE 'yes' END limited_english,
      coalesce(rurality,'unknown') rurality, coalesce(payer,'unknown') payer, enrolled_from::DATE enrolled_from, enrolled_through::DATE enrolled_through
      FROM ${src('people')} WHERE coalesce(person_id,'') NOT IN (${keys});
    CREATE TABLE screening AS SELECT screening_id, person_id, screened_on::DATE screened_on, domain, result FROM ${src('screenings')} WHERE screening_id NOT IN (${keys});
    CREATE TABLE referral AS SELECT referral_id, person_id, need_domain, referred_on::DATE referred_on, target_org_id, status, accepted_on::DATE accepted_on, service_started_on::DATE service_started_on, closed_on::DATE closed_on, outcome FROM ${src('referrals')} WHERE referral_id NOT IN (${keys});
    CREATE TABLE encounter AS SELECT encounter_id, person_id, encounter_type, start_date::DATE start_date FROM ${src('encounters')} WHERE encounter_id NOT IN (${keys});
  `);
  const out: string[] = [];
  for (const ng of NULL_GROUPS) for (const m of ng.metrics) {
    const a = ANALOGS[m]!; const gs = await byGroup(q, m, ng.dimension);
    const g = gs.find((x) => x.group === ng.group)!; const r = gs.find((x) => x.group === ng.reference)!;
    const cmp = compare(g, r, a.kind, a.higherIsBetter);
    out.push(`${cmp.flagged ? 'FLAG' : '    '} ${m.padEnd(30)} p=${cmp.p.toFixed(3)} worse=${cmp.worse.toFixed(3)} ref=${gs[0]?.group}`);
  }
  for (const pl of PLANTED.filter((x) => x.flagged)) {
    const a = ANALOGS[pl.metric]!; const gs = await byGroup(q, pl.metric, pl.dimension);
    const g = gs.find((x) => x.group === pl.group)!; const r = gs.find((x) => x.group === pl.reference)!;
    const cmp = compare(g, r, a.kind, a.higherIsBetter);
    out.push(`${cmp.flagged ? 'FLAG' : 'MISS'} ${pl.metric} ${pl.dimension}=${pl.group} p=${cmp.p.toExponential(1)} worse=${cmp.worse.toFixed(2)} ref=${gs[0]?.group} (${pl.reference}) v=${cmp.value.toFixed(3)} r=${cmp.reference.toFixed(3)}`);
  }
  console.log(`seed ${seed}\n` + out.join('\n'));
  c.closeSync(); inst.closeSync();
}
