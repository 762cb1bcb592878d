/**
 * Reference data the demo generator draws from: North Carolina counties and
 * ZIPs, population mixes, the attributed programs (ACOs), the community
 * partner organizations and their service directory, and the per-domain
 * rates. The SQL in ./sql reads these as small tables and list macros (see
 * referenceSql.ts), so every distribution the README describes lives here,
 * once. Organization and program names are fictional.
 */

/** Contract order of the need domains; the index (1-based) is the domain number used in SQL. */
export const DOMAINS = [
  'food',
  'housing_instability',
  'transportation',
  'utilities',
  'interpersonal_safety',
  'housing_quality',
  'financial_strain',
  'employment',
  'education',
  'social_isolation',
  'mental_health',
  'other',
] as const;
export type Domain = (typeof DOMAINS)[number];

export interface DomainParams {
  domain: Domain;
  /** Share of socially needy people who have this need (core needs: besides the one primary core need every needy person has). */
  needShare: number;
  /** Weight of this domain as the person's primary core need (core domains only). */
  primaryWeight: number;
  /** Probability the domain is asked, by instrument (ahc_hrsn, prapare, other/empty). */
  askAhc: number;
  askPrapare: number;
  askOther: number;
  /** Probability a single question is declined (besides whole-screening refusals). */
  declineShare: number;
  /** Probability the first positive screen for this domain leads to a referral (repeat positives: x 0.45). */
  referShare: number;
  /** Multiplier on partner acceptance (housing is hardest to place). */
  acceptFactor: number;
  /** Benefit program an application in this domain goes to (empty: none in the demo). */
  benefit: string | null;
}

export const DOMAIN_PARAMS: DomainParams[] = [
  { domain: 'food', needShare: 0.5, primaryWeight: 0.45, askAhc: 1, askPrapare: 1, askOther: 1, declineShare: 0.01, referShare: 0.8, acceptFactor: 1.0, benefit: 'snap' },
  { domain: 'housing_instability', needShare: 0.3, primaryWeight: 0.22, askAhc: 1, askPrapare: 1, askOther: 1, declineShare: 0.015, referShare: 0.75, acceptFactor: 0.88, benefit: 'housing_voucher' },
  { domain: 'transportation', needShare: 0.28, primaryWeight: 0.13, askAhc: 1, askPrapare: 1, askOther: 1, declineShare: 0.01, referShare: 0.7, acceptFactor: 1.0, benefit: 'transportation_voucher' },
  { domain: 'utilities', needShare: 0.28, primaryWeight: 0.14, askAhc: 1, askPrapare: 1, askOther: 1, declineShare: 0.01, referShare: 0.7, acceptFactor: 1.0, benefit: 'liheap' },
  { domain: 'interpersonal_safety', needShare: 0.05, primaryWeight: 0.06, askAhc: 1, askPrapare: 1, askOther: 0.6, declineShare: 0.05, referShare: 0.6, acceptFactor: 0.95, benefit: null },
  { domain: 'housing_quality', needShare: 0.14, primaryWeight: 0, askAhc: 0.7, askPrapare: 0.2, askOther: 0, declineShare: 0.015, referShare: 0.45, acceptFactor: 0.95, benefit: null },
  { domain: 'financial_strain', needShare: 0.42, primaryWeight: 0, askAhc: 0.5, askPrapare: 0.6, askOther: 0, declineShare: 0.02, referShare: 0.5, acceptFactor: 1.0, benefit: 'tanf' },
  { domain: 'employment', needShare: 0.2, primaryWeight: 0, askAhc: 0.35, askPrapare: 0.9, askOther: 0, declineShare: 0.015, referShare: 0.4, acceptFactor: 1.0, benefit: null },
  { domain: 'education', needShare: 0.06, primaryWeight: 0, askAhc: 0.1, askPrapare: 0.9, askOther: 0, declineShare: 0.015, referShare: 0.3, acceptFactor: 1.0, benefit: null },
  { domain: 'social_isolation', needShare: 0.18, primaryWeight: 0, askAhc: 0.35, askPrapare: 0.9, askOther: 0, declineShare: 0.015, referShare: 0.4, acceptFactor: 1.0, benefit: null },
  { domain: 'mental_health', needShare: 0.22, primaryWeight: 0, askAhc: 0.35, askPrapare: 0, askOther: 0.5, declineShare: 0.03, referShare: 0.55, acceptFactor: 1.0, benefit: null },
  { domain: 'other', needShare: 0.04, primaryWeight: 0, askAhc: 0, askPrapare: 0.1, askOther: 0.3, declineShare: 0.01, referShare: 0.3, acceptFactor: 1.0, benefit: null },
];

/** The race/ethnicity categories of the contract, in the order the county mixes below use. */
export const RACES = [
  'hispanic_latino',
  'white',
  'black',
  'asian',
  'american_indian_alaska_native',
  'native_hawaiian_pacific_islander',
  'middle_eastern_north_african',
  'multiracial',
  'other',
  'unknown',
] as const;

export interface County {
  name: string;
  fips: string;
  rural: boolean;
  /** Relative size of the county's attributed population in the demo. */
  weight: number;
  zips: string[];
  /** Weights in RACES order (Medicaid-heavy mix; normalised in SQL). */
  race: number[];
  /** Attributed program (ACO) for people living here. */
  program: string;
}

/**
 * Twenty real North Carolina counties (FIPS 37xxx) with real ZIP codes in
 * them. Rurality follows the NC Rural Center's county classification
 * (fewer than 250 people per square mile = rural). Race mixes lean on each
 * county's known make-up: Black majorities in the northeastern counties,
 * the Lumbee in Robeson, the Eastern Band of Cherokee in Swain, the
 * Haliwa-Saponi in Halifax, the Waccamaw Siouan in Columbus.
 */
export const COUNTIES: County[] = [
  { name: 'Mecklenburg', fips: '37119', rural: false, weight: 20, zips: ['28202', '28205', '28206', '28208', '28212', '28215', '28216', '28217'], race: [0.2, 0.36, 0.3, 0.05, 0.004, 0.002, 0.012, 0.035, 0.015, 0.022], program: 'ACO-01' },
  { name: 'Wake', fips: '37183', rural: false, weight: 15, zips: ['27601', '27603', '27604', '27610', '27616', '27529'], race: [0.17, 0.42, 0.26, 0.06, 0.004, 0.002, 0.01, 0.035, 0.015, 0.024], program: 'ACO-02' },
  { name: 'Guilford', fips: '37081', rural: false, weight: 10, zips: ['27401', '27403', '27405', '27406', '27260', '27262'], race: [0.12, 0.4, 0.36, 0.04, 0.005, 0.002, 0.008, 0.03, 0.012, 0.018], program: 'ACO-03' },
  { name: 'Forsyth', fips: '37067', rural: false, weight: 7.5, zips: ['27101', '27105', '27107', '27127'], race: [0.2, 0.43, 0.28, 0.015, 0.004, 0.002, 0.004, 0.032, 0.013, 0.02], program: 'ACO-03' },
  { name: 'Durham', fips: '37063', rural: false, weight: 6, zips: ['27701', '27703', '27704', '27707', '27713'], race: [0.22, 0.3, 0.39, 0.03, 0.004, 0.002, 0.006, 0.025, 0.012, 0.011], program: 'ACO-02' },
  { name: 'Cumberland', fips: '37051', rural: false, weight: 8, zips: ['28301', '28303', '28304', '28306', '28314'], race: [0.13, 0.38, 0.38, 0.02, 0.012, 0.006, 0.004, 0.045, 0.012, 0.008], program: 'ACO-04' },
  { name: 'Buncombe', fips: '37021', rural: false, weight: 4.5, zips: ['28801', '28803', '28806', '28715'], race: [0.12, 0.72, 0.1, 0.01, 0.004, 0.002, 0.003, 0.025, 0.006, 0.01], program: 'ACO-06' },
  { name: 'New Hanover', fips: '37129', rural: false, weight: 4, zips: ['28401', '28403', '28405', '28412'], race: [0.09, 0.58, 0.27, 0.01, 0.003, 0.002, 0.003, 0.025, 0.007, 0.01], program: 'ACO-04' },
  { name: 'Pitt', fips: '37147', rural: false, weight: 5, zips: ['27834', '27858', '27828'], race: [0.09, 0.42, 0.44, 0.01, 0.003, 0.002, 0.002, 0.015, 0.005, 0.013], program: 'ACO-05' },
  { name: 'Robeson', fips: '37155', rural: true, weight: 6, zips: ['28358', '28372', '28377', '28340'], race: [0.1, 0.24, 0.22, 0.004, 0.4, 0.001, 0.001, 0.02, 0.004, 0.01], program: 'ACO-04' },
  { name: 'Wayne', fips: '37191', rural: true, weight: 4, zips: ['27530', '27534', '28365'], race: [0.15, 0.47, 0.33, 0.01, 0.003, 0.002, 0.002, 0.02, 0.005, 0.008], program: 'ACO-05' },
  { name: 'Edgecombe', fips: '37065', rural: true, weight: 2.4, zips: ['27886', '27801', '27864'], race: [0.06, 0.25, 0.65, 0.003, 0.003, 0.001, 0.001, 0.015, 0.007, 0.01], program: 'ACO-05' },
  { name: 'Halifax', fips: '37083', rural: true, weight: 2.4, zips: ['27870', '27823', '27874', '27839'], race: [0.04, 0.3, 0.58, 0.005, 0.04, 0.001, 0.001, 0.015, 0.008, 0.01], program: 'ACO-05' },
  { name: 'Columbus', fips: '37047', rural: true, weight: 2.3, zips: ['28472', '28450', '28431'], race: [0.07, 0.52, 0.31, 0.003, 0.05, 0.001, 0.001, 0.02, 0.008, 0.017], program: 'ACO-04' },
  { name: 'Sampson', fips: '37163', rural: true, weight: 2.2, zips: ['28328', '28382', '28318'], race: [0.24, 0.43, 0.28, 0.003, 0.02, 0.001, 0.001, 0.012, 0.005, 0.008], program: 'ACO-04' },
  { name: 'Duplin', fips: '37061', rural: true, weight: 2.2, zips: ['28349', '28466', '28398', '28453'], race: [0.3, 0.43, 0.23, 0.003, 0.003, 0.001, 0.001, 0.012, 0.01, 0.01], program: 'ACO-04' },
  { name: 'Bertie', fips: '37015', rural: true, weight: 0.9, zips: ['27983', '27924', '27957'], race: [0.02, 0.3, 0.65, 0.002, 0.003, 0.001, 0.001, 0.01, 0.005, 0.008], program: 'ACO-05' },
  { name: 'Hertford', fips: '37091', rural: true, weight: 1, zips: ['27910', '27855', '27986'], race: [0.03, 0.31, 0.61, 0.005, 0.02, 0.001, 0.001, 0.012, 0.006, 0.005], program: 'ACO-05' },
  { name: 'Ashe', fips: '37009', rural: true, weight: 1.1, zips: ['28640', '28694', '28617'], race: [0.07, 0.88, 0.01, 0.003, 0.003, 0.001, 0.001, 0.015, 0.004, 0.013], program: 'ACO-06' },
  { name: 'Swain', fips: '37173', rural: true, weight: 0.7, zips: ['28713', '28719'], race: [0.05, 0.58, 0.02, 0.003, 0.3, 0.001, 0.001, 0.03, 0.005, 0.01], program: 'ACO-06' },
];

/** Attributed programs (ACOs / clinic networks); people.program_id. Each refers from its clinic, source_org_id CLN-nn. */
export interface AttributedProgram {
  id: string;
  name: string;
  clinic: string;
  /** Screening instrument the program's clinics use (90% of their screenings). */
  instrument: 'ahc_hrsn' | 'prapare' | 'other';
}
export const PROGRAMS: AttributedProgram[] = [
  { id: 'ACO-01', name: 'Metrolina Community Care Partners', clinic: 'CLN-01', instrument: 'ahc_hrsn' },
  { id: 'ACO-02', name: 'Triangle Health Collaborative', clinic: 'CLN-02', instrument: 'ahc_hrsn' },
  { id: 'ACO-03', name: 'Piedmont Triad Care Network', clinic: 'CLN-03', instrument: 'prapare' },
  { id: 'ACO-04', name: 'Cape Fear & Sandhills Health Alliance', clinic: 'CLN-04', instrument: 'ahc_hrsn' },
  { id: 'ACO-05', name: 'Eastern Carolina Community Health Partners', clinic: 'CLN-05', instrument: 'prapare' },
  { id: 'ACO-06', name: 'Blue Ridge Integrated Care', clinic: 'CLN-06', instrument: 'other' },
];

/** A categorical distribution: values and their (unnormalised) weights. NULL = empty in the file. */
export type Mix = Array<[string | null, number]>;

/** Age bands [lo, hi] in whole years at endDate with weights (Medicaid-heavy: about a third children). */
export const AGE_BANDS: Array<[number, number, number]> = [
  [0, 4, 0.09],
  [5, 11, 0.12],
  [12, 17, 0.11],
  [18, 25, 0.11],
  [26, 44, 0.22],
  [45, 64, 0.195],
  [65, 79, 0.1],
  [80, 89, 0.045],
  [90, 102, 0.01],
];

/** Sex: independent of everything else, and no rate anywhere depends on it (the planted NULL group). */
export const SEX_MIX: Mix = [
  ['female', 0.535],
  ['male', 0.455],
  ['other', 0.002],
  ['unknown', 0.006],
  [null, 0.002],
];

/** Preferred language by race/ethnicity (key '*' = any other race, including unknown/empty). */
export const LANGUAGE_BY_RACE: Record<string, Mix> = {
  hispanic_latino: [['en', 0.44], ['es', 0.52], ['unknown', 0.025], [null, 0.015]],
  asian: [['en', 0.48], ['vi', 0.26], ['zh', 0.18], ['unknown', 0.05], [null, 0.03]],
  middle_eastern_north_african: [['en', 0.45], ['ar', 0.45], ['fr', 0.05], ['unknown', 0.03], [null, 0.02]],
  black: [['en', 0.96], ['fr', 0.012], ['unknown', 0.018], [null, 0.01]],
  white: [['en', 0.975], ['unknown', 0.015], [null, 0.01]],
  '*': [['en', 0.9], ['es', 0.04], ['unknown', 0.04], [null, 0.02]],
};

/** Payer by age (0-17, 18-64, 65+): Medicaid for most children, Medicare/dual for most elders, uninsured adults. */
export const PAYER_BY_AGE: Record<'child' | 'adult' | 'elder', Mix> = {
  child: [['medicaid', 0.86], ['commercial', 0.07], ['uninsured', 0.03], ['other', 0.02], ['unknown', 0.017], [null, 0.003]],
  adult: [['medicaid', 0.62], ['medicare', 0.03], ['dual', 0.04], ['commercial', 0.12], ['uninsured', 0.14], ['other', 0.02], ['unknown', 0.027], [null, 0.003]],
  elder: [['medicaid', 0.04], ['medicare', 0.4], ['dual', 0.45], ['commercial', 0.05], ['uninsured', 0.01], ['other', 0.02], ['unknown', 0.027], [null, 0.003]],
};

/** Share of people with any social need, by payer (before the rural and race multipliers in people.sql). */
export const NEEDY_BY_PAYER: Record<string, number> = {
  medicaid: 0.37,
  uninsured: 0.45,
  dual: 0.36,
  medicare: 0.21,
  commercial: 0.14,
  other: 0.27,
  unknown: 0.31,
  '': 0.31,
};

export interface Org {
  id: string;
  name: string;
  /** Multiplier on the probability that a referral is accepted. */
  acceptFactor: number;
  /** How referrals it does not accept end: weights for no response (pending), rejected, cancelled. */
  notAccepted: [number, number, number];
  /** Share of its rejections that say no_capacity. */
  noCapacityShare: number;
  /** Weight when several organizations serve the same domain and county. */
  weight: number;
}

/**
 * Fifteen community partners. Planted: ORG-07 rarely accepts and leaves
 * most referrals without an answer (stale open); ORG-11 rejects most
 * referrals for no_capacity. The others vary mildly, as real partners do.
 */
export const ORGS: Org[] = [
  { id: 'ORG-01', name: 'Carolina Harvest Food Network', acceptFactor: 1.04, notAccepted: [0.35, 0.42, 0.23], noCapacityShare: 0.25, weight: 4 },
  { id: 'ORG-02', name: 'Triangle Community Pantry Partners', acceptFactor: 1.0, notAccepted: [0.35, 0.42, 0.23], noCapacityShare: 0.3, weight: 2 },
  { id: 'ORG-03', name: 'Eastern NC Food & Nutrition Alliance', acceptFactor: 0.97, notAccepted: [0.35, 0.42, 0.23], noCapacityShare: 0.3, weight: 2 },
  { id: 'ORG-04', name: 'Homes First NC, Inc.', acceptFactor: 0.98, notAccepted: [0.35, 0.42, 0.23], noCapacityShare: 0.35, weight: 1 },
  { id: 'ORG-05', name: 'Coastal Plain Housing Alliance', acceptFactor: 1.0, notAccepted: [0.35, 0.42, 0.23], noCapacityShare: 0.35, weight: 1 },
  { id: 'ORG-06', name: 'Blue Ridge Housing Partners', acceptFactor: 1.02, notAccepted: [0.35, 0.42, 0.23], noCapacityShare: 0.3, weight: 1 },
  { id: 'ORG-07', name: 'Piedmont RideConnect', acceptFactor: 0.35, notAccepted: [0.75, 0.15, 0.1], noCapacityShare: 0.2, weight: 2 },
  { id: 'ORG-08', name: 'Carolina Access Transit', acceptFactor: 1.0, notAccepted: [0.35, 0.42, 0.23], noCapacityShare: 0.3, weight: 1 },
  { id: 'ORG-09', name: 'EnergyAssist NC', acceptFactor: 1.02, notAccepted: [0.35, 0.42, 0.23], noCapacityShare: 0.3, weight: 2 },
  { id: 'ORG-10', name: 'SafeHaven Alliance of North Carolina', acceptFactor: 1.03, notAccepted: [0.35, 0.42, 0.23], noCapacityShare: 0.2, weight: 1 },
  { id: 'ORG-11', name: 'BrightPath Housing Services', acceptFactor: 0.5, notAccepted: [0.05, 0.9, 0.05], noCapacityShare: 0.9, weight: 1 },
  { id: 'ORG-12', name: 'WorkForward NC', acceptFactor: 0.96, notAccepted: [0.35, 0.42, 0.23], noCapacityShare: 0.25, weight: 1 },
  { id: 'ORG-13', name: 'Connect Seniors NC', acceptFactor: 1.0, notAccepted: [0.35, 0.42, 0.23], noCapacityShare: 0.25, weight: 1 },
  { id: 'ORG-14', name: 'Family Resource Centers of NC', acceptFactor: 0.99, notAccepted: [0.35, 0.42, 0.23], noCapacityShare: 0.3, weight: 1 },
  { id: 'ORG-15', name: 'Integrated Behavioral Partners', acceptFactor: 1.0, notAccepted: [0.35, 0.42, 0.23], noCapacityShare: 0.3, weight: 1 },
];

const URBAN = ['37119', '37183', '37081', '37067', '37063', '37051', '37021', '37129', '37147'];
const ALL = COUNTIES.map((c) => c.fips);

/** A directory program: one org x domain, serving a list of counties. */
export interface DirectoryProgram {
  id: string;
  org: string;
  name: string;
  domain: Domain;
  counties: string[];
  /** Counties where this program's capacity is deliberately short (x 0.2 of the adequate level). */
  shortIn?: string[];
  /** Counties where the directory does not know the capacity (empty). 'all' = everywhere. */
  unknownCapacityIn?: string[] | 'all';
}

/**
 * The service directory. Deliberate gaps (no provider at all):
 * housing_instability and housing_quality in Bertie (37015) and Ashe
 * (37009); transportation in Swain (37173). Deliberately short capacity:
 * food in Robeson (37155) and Halifax (37083), housing_instability in
 * Halifax. Unknown capacity: SafeHaven (confidential shelter capacity) and
 * Connect Seniors in three rural counties.
 */
export const DIRECTORY: DirectoryProgram[] = [
  { id: 'SVC-0101', org: 'ORG-01', name: 'Community Food Pantry Network', domain: 'food', counties: ALL, shortIn: ['37155', '37083'] },
  { id: 'SVC-0201', org: 'ORG-02', name: 'Fresh Food Home Delivery', domain: 'food', counties: ['37183', '37063'] },
  { id: 'SVC-0301', org: 'ORG-03', name: 'Mobile Market & SNAP Outreach', domain: 'food', counties: ['37147', '37065', '37083', '37015', '37091', '37191'], shortIn: ['37083'] },
  { id: 'SVC-0401', org: 'ORG-04', name: 'Rapid Rehousing', domain: 'housing_instability', counties: ['37119', '37183', '37063', '37081', '37067'] },
  { id: 'SVC-0402', org: 'ORG-04', name: 'Healthy Homes Repairs', domain: 'housing_quality', counties: ['37119', '37183', '37063', '37081', '37067'] },
  { id: 'SVC-0501', org: 'ORG-05', name: 'Eviction Prevention & Rent Relief', domain: 'housing_instability', counties: ['37051', '37155', '37047', '37163', '37061', '37191', '37129', '37147', '37065', '37083', '37091'], shortIn: ['37083'] },
  { id: 'SVC-0502', org: 'ORG-05', name: 'Home Safety & Weatherization', domain: 'housing_quality', counties: ['37051', '37155', '37047', '37163', '37061', '37191', '37129', '37147', '37065', '37083', '37091'] },
  { id: 'SVC-0601', org: 'ORG-06', name: 'Mountain Housing Stability', domain: 'housing_instability', counties: ['37021', '37173'] },
  { id: 'SVC-0602', org: 'ORG-06', name: 'Mountain Home Repair', domain: 'housing_quality', counties: ['37021', '37173'] },
  { id: 'SVC-0701', org: 'ORG-07', name: 'Medical "Rides to Care"', domain: 'transportation', counties: ['37119', '37081', '37067', '37183', '37063'] },
  { id: 'SVC-0801', org: 'ORG-08', name: 'Rural Transit Vouchers', domain: 'transportation', counties: ALL.filter((f) => f !== '37173' && !['37119', '37081', '37067'].includes(f)) },
  { id: 'SVC-0901', org: 'ORG-09', name: 'Utility Bill Assistance', domain: 'utilities', counties: ALL },
  { id: 'SVC-1001', org: 'ORG-10', name: 'Safety Planning & Shelter', domain: 'interpersonal_safety', counties: ALL, unknownCapacityIn: 'all' },
  { id: 'SVC-1201', org: 'ORG-12', name: 'Job Readiness Coaching', domain: 'employment', counties: ALL },
  { id: 'SVC-1202', org: 'ORG-12', name: 'GED & Adult Education', domain: 'education', counties: ALL },
  { id: 'SVC-1301', org: 'ORG-13', name: 'Friendly Caller & Senior Centers', domain: 'social_isolation', counties: ALL, unknownCapacityIn: ['37015', '37009', '37173'] },
  { id: 'SVC-1401', org: 'ORG-14', name: 'Financial Coaching & Benefits Navigation', domain: 'financial_strain', counties: ALL },
  { id: 'SVC-1402', org: 'ORG-14', name: 'Emergency Utility Fund', domain: 'utilities', counties: URBAN },
  { id: 'SVC-1403', org: 'ORG-14', name: 'Family Navigation', domain: 'other', counties: ALL },
  { id: 'SVC-1101', org: 'ORG-11', name: 'Emergency Housing Placement', domain: 'housing_instability', counties: ['37119', '37183', '37081', '37051', '37129', '37147'] },
  { id: 'SVC-1501', org: 'ORG-15', name: 'Community Counseling Access', domain: 'mental_health', counties: ALL },
];

/**
 * Positive needs (positive screening rows) per person per month, by domain,
 * as the generator produces them (measured at 1,000,000 people, seed 42).
 * The directory's capacity is sized against these (see serviceRows).
 */
export const DEMAND_PER_PERSON_MONTH: Record<Domain, number> = {
  food: 0.00626,
  housing_instability: 0.00397,
  transportation: 0.0033,
  utilities: 0.00335,
  interpersonal_safety: 0.00097,
  housing_quality: 0.00062,
  financial_strain: 0.00176,
  employment: 0.00089,
  education: 0.00021,
  social_isolation: 0.00081,
  mental_health: 0.0005,
  other: 0.00003,
};
