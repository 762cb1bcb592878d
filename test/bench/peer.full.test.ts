// The pandas peer on a 3,000-person demo (full tier: about 50 s of work): its answers must
// equal closeloop's published cells on every cut closeloop publishes, and closeloop's
// unsuppressed figures everywhere. The hand-worked inbox is in peer.test.ts (fast tier).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasPandas, runPeer } from '../../pipelines/bench/peer.ts';
import { generateDemo } from '../../pipelines/demo/generate.ts';
import { tempStore, type TempStore } from '../helpers/store.ts';
import { join } from 'node:path';

const pandas = hasPandas();
const unlessSkipped = (name: string) => (pandas ? name : `${name} (skipped: python3-pandas is not installed (apt-get install -y python3-pandas))`);

describe('the pandas peer on a 3,000-person demo', () => {
  let store: TempStore;
  let out: string;
  beforeAll(async () => {
    if (!pandas) return;
    store = tempStore('closeloop-peer-');
    out = join(store.root, 'peer.json');
    await generateDemo({ people: 3_000, seed: 7, outDir: store.inbox });
    const s = await store.run();
    expect(s.status).toBe('published');
  }, 300_000);
  afterAll(() => store?.cleanup());

  it.skipIf(!pandas)(unlessSkipped('agrees with every published cell and has exactly the groups closeloop has, on every cut closeloop publishes'), async () => {
    const r = await runPeer({ inbox: store.inbox, store: store.root, out });
    expect(r.mismatches).toEqual([]);
    expect(r.cells).toBeGreaterThan(0);
    expect(r.peakRssMb === null || r.peakRssMb > 0).toBe(true);
  });

  it.skipIf(!pandas)(unlessSkipped('agrees with closeloop\'s unsuppressed figures, small cells included'), async () => {
    const r = await runPeer({ inbox: store.inbox, store: store.root, out, against: 'recomputed' });
    expect(r.mismatches).toEqual([]);
    expect(r.withheld).toBe(0);
    expect(r.cells).toBeGreaterThan(100);
  });
});
