// Valid-but-messy input loads correctly, values normalised as the contract says.
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../../models/duckdb.ts';
import { tempStore } from '../../helpers/store.ts';

const store = tempStore();
afterAll(() => store.cleanup());

describe('valid but messy extracts', () => {
  it('loads BOM, CRLF, quoting, leading zeros, mixed-case enums, second files, gzip and Parquet', async () => {
    const bom = '\uFEFF';
    store.add('people.csv', bom + [
      ' Person_ID ,BIRTH_DATE,Sex,race_ethnicity,preferred_language,zip,county_fips,rurality,payer,program_id,enrolled_from,enrolled_through',
      '00123,1980-02-03, Female ,  White ,EN,02134,01001,Urban,MEDICAID,"ACO, North",2024-01-01,',
      '"P ""Q"" 7",1990-06-15,male,Black,,,,,,,2024-02-01,2025-12-31',
      'P8,1970-01-01,other,asian,vi,00501,37001,rural,dual,,2024-01-01,',
    ].join('\r\n') + '\r\n');
    // A second people file replaces P8's row (later file wins).
    store.add('people_2025-06.csv', 'person_id,birth_date,payer,enrolled_from\nP8,1970-01-01,Commercial,2024-03-01\n');
    store.add('referrals_a.csv.gz', gzipSync(Buffer.from([
      'referral_id,person_id,need_domain,referred_on,source_org_id,target_org_id,program_id,status,accepted_on,service_started_on,closed_on,outcome',
      'R1,00123, Food ,2024-03-01,C1,"Org ""A"", Inc.",,Completed,2024-03-02,,2024-03-09,NEED_MET',
      'R2,P8,housing_instability,2024-03-05,C1,ORG-2,,pending,,,,',
    ].join('\n'))));
    const pq = await openDatabase(':memory:');
    const parquet = join(store.inbox, 'screenings-clinic-a.parquet');
    await pq.conn.run(`COPY (SELECT * FROM (VALUES ('S1', '00123', DATE '2024-02-01', 'AHC_HRSN', 'food', 'Positive'),
      ('S1', '00123', DATE '2024-02-01', 'ahc_hrsn', 'utilities', 'negative'), ('S2', 'P8', DATE '2024-02-02', NULL, 'food', 'declined'))
      t(screening_id, person_id, screened_on, instrument, domain, result)) TO '${parquet}' (FORMAT parquet)`);
    pq.close();

    const s = await store.run();
    expect(s.exit_code).toBe(0);
    expect(s.files.map((f) => [f.file, f.rows_read, f.rows_loaded, f.rows_quarantined])).toEqual([
      ['people.csv', 3, 3, 0],
      ['people_2025-06.csv', 1, 1, 0],
      ['screenings-clinic-a.parquet', 3, 3, 0],
      ['referrals_a.csv.gz', 2, 2, 0],
    ]);
    const people = await store.warehouse('SELECT person_id, sex, race_ethnicity, preferred_language, zip, county_fips, rurality, payer, program_id, _line FROM stg_people ORDER BY person_id');
    expect(people).toEqual([
      { person_id: '00123', sex: 'female', race_ethnicity: 'white', preferred_language: 'en', zip: '02134', county_fips: '01001', rurality: 'urban', payer: 'medicaid', program_id: 'ACO, North', _line: 2 },
      { person_id: 'P "Q" 7', sex: 'male', race_ethnicity: 'black', preferred_language: 'unknown', zip: null, county_fips: null, rurality: 'unknown', payer: 'unknown', program_id: null, _line: 3 },
      { person_id: 'P8', sex: 'unknown', race_ethnicity: 'unknown', preferred_language: 'unknown', zip: null, county_fips: null, rurality: 'unknown', payer: 'commercial', program_id: null, _line: 2 },
    ]);
    const refs = await store.warehouse('SELECT referral_id, need_domain, target_org_id, status, outcome, closed_on FROM stg_referrals ORDER BY 1');
    expect(refs[0]).toEqual({ referral_id: 'R1', need_domain: 'food', target_org_id: 'Org "A", Inc.', status: 'completed', outcome: 'need_met', closed_on: '2024-03-09' });
    const scr = await store.warehouse('SELECT screening_id, domain, instrument, result FROM stg_screenings ORDER BY 1, 2');
    expect(scr).toEqual([
      { screening_id: 'S1', domain: 'food', instrument: 'ahc_hrsn', result: 'positive' },
      { screening_id: 'S1', domain: 'utilities', instrument: 'ahc_hrsn', result: 'negative' },
      { screening_id: 'S2', domain: 'food', instrument: 'other', result: 'declined' },
    ]);
  });

  it('reports the physical line of a record after quoted line breaks and blank lines', async () => {
    const s2 = tempStore();
    try {
      s2.add('people.csv', 'person_id,birth_date,enrolled_from\nP1,1980-01-01,2024-01-01\n');
      s2.add('services.csv', [
        'program_id,org_id,org_name,program_name,domain,county_fips,monthly_capacity',
        'A,O1,"Line one', 'line two",Pantry,food,37001,10', // record on lines 2-3
        '', // blank line 4
        'B,O1,Org,Pantry,food,37001,many', // line 5: not_an_int
        'C,O1,Org,Pantry,food', // line 6: malformed
        'D,O1,Org,Pantry,food,3700,1', // line 7: not_5_digits
      ].join('\r\n'));
      await s2.run();
      const q = await s2.warehouse('SELECT line, rule FROM quarantine ORDER BY line');
      expect(q).toEqual([{ line: 5, rule: 'not_an_int' }, { line: 6, rule: 'malformed_row' }, { line: 7, rule: 'not_5_digits' }]);
    } finally {
      s2.cleanup();
    }
  });
});
