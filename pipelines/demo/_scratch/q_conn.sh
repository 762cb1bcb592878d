npx tsx pipelines/demo/_scratch/dbg.ts ${N:-20000} random,people,screenings,referrals \
 "create table anchor as select p, min(screened_on) a from positive_need where d <= 5 group by p" \
 "create table conn as select an.p, an.a, exists(select 1 from positive_need n join referral r on r.p = n.p and r.d = n.d where n.p = an.p and n.screened_on = an.a and n.d <= 5 and ((r.accepted_on between an.a and an.a + 60) or (r.service_started_on between an.a and an.a + 60))) c from anchor an where an.a + 60 <= window_end()" \
 "select pe.rurality, count(*) n, avg(c::int) conn from conn join person pe using (p) group by all order by n desc" \
 "select pe.payer, count(*) n, avg(c::int) conn from conn join person pe using (p) group by all order by n desc" \
 "select pe.limited_english, count(*) n, avg(c::int) conn from conn join person pe using (p) group by all order by n desc" \
 "select pe.sex, count(*) n, avg(c::int) conn from conn join person pe using (p) group by all order by n desc" \
 "select pe.race_ethnicity, count(*) n, avg(c::int) conn from conn join person pe using (p) group by all order by n desc limit 3" \
 "select count(*) n, avg(exists(select 1 from referral r where r.p = n.p and r.d = n.d and r.referred_on between n.screened_on and n.screened_on + 30)::int) nrr from positive_need n where screened_on + 30 <= window_end()"
