/**
 * Issue 2's linearity check: one orchestration of 1,000 and of 2,000 sequential activities on SQLite
 * (time ratio ≈ 2 means no replay per step).  npx tsx bench/seq-ratio.ts
 */
import { sequence } from './workloads.js';

const t1 = await sequence(1000);
const t2 = await sequence(2000);
process.stdout.write(`sequence 1,000: ${t1.toFixed(0)} ms; 2,000: ${t2.toFixed(0)} ms; ratio ${(t2 / t1).toFixed(2)} (linear = 2)\n`);
