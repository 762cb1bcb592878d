// The scanner / DuckDB agreement property of csvAgreement.test.ts on 2,000 generated
// files (about a minute): the deep run of issue 13, item 6.
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { check, csvCase, useAgreementFixture } from './csvAgreement.ts';

useAgreementFixture();

describe('item 6 (deep): the line scanner agrees with DuckDB on 2,000 generated files', () => {
  it('records, field values, lines and whole malformed records', async () => {
    await fc.assert(fc.asyncProperty(csvCase, check), { numRuns: 2000 });
  }, 600_000);
});
