import { DuckDBInstance } from '@duckdb/node-api';
const inst = await DuckDBInstance.create(':memory:', { threads: '2' });
const c = await inst.connect();
const d = process.argv[2] ?? '/tmp/demo';
const E = "DATE '2026-10-31'";
const src = (e: string) => `read_csv('${d}/${e}.csv', all_varchar=true)`;
await c.run(`create table pe as select * from ${src('people')} where person_id not like 'PX%' and person_id is not null;
create table s as select * replace (screened_on::date as screened_on) from ${src('screenings')} where screening_id not like 'SX%';
create table r as select * replace (referred_on::date as referred_on, accepted_on::date as accepted_on, service_started_on::date as service_started_on, closed_on::date as closed_on) from ${src('referrals')} where referral_id not like 'RX%';
create table en as select * replace (applied_on::date as applied_on, enrolled_on::date as enrolled_on, ended_on::date as ended_on) from ${src('enrollments')} where enrollment_id not like 'EX%';
create table q as select assessment_id, person_id, assessed_on::date assessed_on, total_score::int total_score, item_1 from ${src('phq9')} where assessment_id not like 'AX%';
create table v as select * replace (start_date::date as start_date, end_date::date as end_date, paid_amount::double as paid_amount) from ${src('encounters')} where encounter_id not like 'VX%';`);
const qs = [
 `select count(*) people, avg((date_diff('year', birth_date::date, ${E}) >= 90)::int) over90, avg((date_diff('year', birth_date::date, ${E}) < 18)::int) children from pe`,
 `select count(distinct person_id) screened, count(distinct screening_id) events, count(*) rows_, avg((result='declined')::int) declined from s`,
 `select avg(pos) positivity from (select person_id, max((result='positive')::int) pos from s group by all)`,
 `select count(*) referrals, avg(((accepted_on is not null) or status in ('accepted','in_progress','completed'))::int) filter (where referred_on <= ${E}-14) acceptance, avg((closed_on is not null and closed_on-referred_on<=60)::int) filter (where referred_on <= ${E}-60) closed60, avg((outcome='need_met')::int) filter (where closed_on is not null) need_met, count(*) filter (where closed_on is null and referred_on < ${E}-30) stale from r`,
 `select status, count(*) n from r group by all order by n desc`,
 `select count(*) n, avg(exists(select 1 from r where r.person_id=s.person_id and r.need_domain=s.domain and r.referred_on between s.screened_on and s.screened_on+30)::int) need_referral from s where result='positive' and screened_on+30 <= ${E}`,
 `select program, status, count(*) n from en group by all order by all`,
 `select count(distinct person_id) patients, count(*) n, avg((item_1 is null)::int) total_only from q`,
 `select encounter_type, count(*) n, avg(paid_amount) mean_paid, avg((paid_amount is null)::int) no_paid from v group by all order by n desc`,
 `select 1000.0 * count(*) filter (where encounter_type='ed') / (sum(d) / (365.25/12)) from v, (select sum(coalesce(enrolled_through::date, ${E}) - greatest(enrolled_from::date, DATE '2024-11-01') + 1) filter (where coalesce(enrolled_through::date, ${E}) >= DATE '2024-11-01') d from pe) mm group by mm.d`,
];
for (const q of qs) { const x = await c.runAndReadAll(q); console.log(JSON.stringify(x.getRowObjectsJson())); }
const more = [
 `select 1000.0 * sum(ed) / sum(mm) ed_rate, 1000.0 * sum(ip) / sum(mm) ip_rate from (
    select pe.person_id, (coalesce(pe.enrolled_through::date, ${E}) - greatest(pe.enrolled_from::date, DATE '2024-11-01') + 1) / (365.25/12) mm,
      (select count(*) from v where v.person_id = pe.person_id and v.encounter_type='ed' and v.start_date >= greatest(pe.enrolled_from::date, DATE '2024-11-01') and v.start_date <= coalesce(pe.enrolled_through::date, ${E})) ed,
      (select count(*) from v where v.person_id = pe.person_id and v.encounter_type='inpatient' and v.start_date >= greatest(pe.enrolled_from::date, DATE '2024-11-01') and v.start_date <= coalesce(pe.enrolled_through::date, ${E})) ip
    from pe where coalesce(pe.enrolled_through::date, ${E}) >= greatest(pe.enrolled_from::date, DATE '2024-11-01'))`,
 `with idx as (select person_id, min(assessed_on) d from q where total_score >= 10 group by all),
  ep as (select i.person_id, i.d, (select total_score from q where q.person_id=i.person_id and q.assessed_on=i.d limit 1) s0,
     (select arg_max(total_score, assessed_on) from q where q.person_id=i.person_id and q.assessed_on between i.d+120 and i.d+240) s1 from idx i where i.d + 240 <= ${E}),
  met as (select person_id, min(closed_on) m from r where outcome='need_met' group by all)
  select (m.m is not null and m.m <= ep.d + 120) met, count(*) episodes, avg((s1 is not null)::int) follow_up, avg((s1 <= s0/2)::int) response, avg((s1 < 5)::int) remission
  from ep left join met m using (person_id) group by all`,
];
for (const q of more) { const x = await c.runAndReadAll(q); console.log(JSON.stringify(x.getRowObjectsJson())); }
