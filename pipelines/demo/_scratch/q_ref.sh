npx tsx pipelines/demo/_scratch/dbg.ts ${N:-20000} random,people,screenings,referrals \
 "select avg(anypos::int) pos_people from (select p, bool_or(result='positive') anypos from screening_row group by p)" \
 "select origin, count(*) n from referral group by all" \
 "select status, count(*) n, avg((accepted_on is not null)::int) acc from referral group by all order by n desc" \
 "select count(*) n, avg(((accepted_on is not null) or status in ('accepted','in_progress','completed'))::int) acceptance from referral where referred_on <= window_end() - 14" \
 "select avg((closed_on is not null and closed_on - referred_on <= 60)::int) closed60 from referral where referred_on <= window_end() - 60" \
 "select avg((outcome='need_met')::int) need_met from referral where closed_on is not null" \
 "select outcome, count(*) from referral group by all order by 2 desc" \
 "select target_org_id, count(*) n, avg(((accepted_on is not null) or status in ('accepted','in_progress','completed'))::int) acc, avg((closed_on is not null and closed_on - referred_on <= 60)::int) cl60, avg((closed_on is null and referred_on < window_end()-30)::int) stale, avg((outcome='no_capacity')::int) nocap from referral where referred_on <= window_end() - 60 group by all order by 1" \
 "select pe.limited_english lep, pe.rural, count(*) n, avg(((accepted_on is not null) or status in ('accepted','in_progress','completed'))::int) acc, avg((closed_on is not null and closed_on - referred_on <= 60)::int) cl60, median(closed_on - referred_on) med_close from referral r join person pe using (p) where referred_on <= window_end() - 60 group by all order by all" \
 "select pe.race_ethnicity, count(*) n, avg((closed_on is not null and closed_on - referred_on <= 60)::int) cl60 from referral r join person pe using (p) where referred_on <= window_end() - 60 group by all order by n desc limit 4" \
 "select pe.sex, count(*) n, avg(((accepted_on is not null) or status in ('accepted','in_progress','completed'))::int) acc, avg((closed_on is not null and closed_on - referred_on <= 60)::int) cl60 from referral r join person pe using (p) where referred_on <= window_end() - 60 group by all order by n desc limit 4"
