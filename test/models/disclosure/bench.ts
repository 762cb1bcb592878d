// Timing of the publish step on a large synthetic results table:
//   npx tsx test/models/disclosure/bench.ts [metrics] [months] [cells]
import { openDatabase } from '../../../models/duckdb.ts';
import { finaliseResults } from '../../../models/disclosure/index.ts';
import { buildSyntheticResults, syntheticMetrics } from './syntheticTable.ts';

const [metrics = 20, months = 36, cells = 400] = process.argv.slice(2).map(Number);
const db = await openDatabase(':memory:', { memoryLimit: '4GB' });
let t = performance.now();
const n = await buildSyntheticResults(db.conn, { metrics, months, cells });
console.log(`built ${n.toLocaleString('en-US')} rows in ${((performance.now() - t) / 1000).toFixed(1)} s`);
t = performance.now();
const r = await finaliseResults(db.conn, { metrics: syntheticMetrics(metrics), config: { referenceGroups: {}, suppressionThreshold: 11 } });
console.log(`finalised in ${((performance.now() - t) / 1000).toFixed(1)} s`, r.seconds);
console.log({ comparisons: r.comparisons, suppressed: r.suppression, audit: { ok: r.audit.ok, relations: r.audit.relations, violations: r.audit.violations.length } });
console.log(r.audit.violations.slice(0, 5));
db.close();
