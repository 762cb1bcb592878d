// The evaluation's design and limits in plain words: the Evaluation page, GET /api/evaluation and
// the README say the same (issue 22).
/** What the design is and what it cannot show, in plain words (the page, the API and the CSV notes). */
export const EVALUATION_LIMITS: readonly string[] = [
  'Design: each month\'s first referrals (a cohort) against people who screened positive by then and were not yet referred (comparison), both covered every day from six months before to six months after. The comparison is weighted to the referred people\'s age band and Medicaid coverage within each cohort.',
  'Each figure is a difference in differences: the change in visits per 1,000 member-months from the baseline (months -6..-2) for referred people, minus the same change for the comparison people. Intervals are 95% and clustered by person (one person can be in the comparison group of several cohorts).',
  'Month -1 is not in the baseline: referrals follow crises, so use rises just before a referral; measured against that month, any later fall would look like an effect (regression to the mean).',
  'The pre-trend test asks whether the baseline months already differ (a chi-square test of months -6..-3). A flat pre-period supports the assumption that both groups would have moved alike without the referral; it cannot prove it.',
  'What it cannot show: unmeasured confounding. Referred people may differ from the comparison people in what the data do not record (a new crisis, a care manager\'s judgment, motivation). The comparison group is people who screened positive and were not referred: some are referred later, some never, for reasons the data do not give.',
  'PHQ-9: people whose first elevated PHQ-9 (10 or more: moderate depression or worse) has a follow-up on days 120-240 and who screened positive by 30 days after it. Referred: first referral within 30 days either side of that index PHQ-9; comparison: not referred by the follow-up. The figure is the change in score (follow-up minus index), referred minus comparison, weighted to the same age band and Medicaid mix; each person counts once, so the interval is person-level.',
  'It estimates the effect of being referred, not of receiving a service, and only for people covered throughout; it says nothing about people without a positive screening.',
];
