/** Need domains (screenings.domain, referrals.need_domain, enrollments.domain, services.domain). */
export const DOMAINS = [
  'food', 'housing_instability', 'transportation', 'utilities', 'interpersonal_safety',
  'housing_quality', 'financial_strain', 'employment', 'education', 'social_isolation', 'mental_health', 'other',
] as const;

/** The five core domains of the CMS AHC screening tool and SDOH-1. */
export const CORE_DOMAINS = ['food', 'housing_instability', 'transportation', 'utilities', 'interpersonal_safety'] as const;

export type Domain = (typeof DOMAINS)[number];
