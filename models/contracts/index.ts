import { coverage } from './coverage.ts';
import { encounters } from './encounters.ts';
import { enrollments } from './enrollments.ts';
import type { EntityContract } from './entity.ts';
import { people } from './people.ts';
import { phq9 } from './phq9.ts';
import { referrals } from './referrals.ts';
import { screenings } from './screenings.ts';
import { services } from './services.ts';

export * from './entity.ts';
export * from './columns.ts';
export * from './domains.ts';

/** Load order: people first, because the other entities' orphan rule looks them up; coverage
 * next, after the spans the roster rows carry. */
export const ENTITIES: readonly EntityContract[] = [people, coverage, services, screenings, referrals, enrollments, phq9, encounters];

export type EntityName = 'people' | 'coverage' | 'services' | 'screenings' | 'referrals' | 'enrollments' | 'phq9' | 'encounters';

export function entityByName(name: string): EntityContract {
  const e = ENTITIES.find((x) => x.name === name);
  if (!e) throw new Error(`unknown entity ${name}`);
  return e;
}

export { people, coverage, services, screenings, referrals, enrollments, phq9, encounters };
