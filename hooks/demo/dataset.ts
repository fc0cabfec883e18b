/**
 * The demo's datasets: `x,y` CSV rows on a line, y = slope * x + intercept + Gaussian noise, from
 * a seeded PRNG so every run (and every machine) puts the same bytes.
 */
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';

/** Where the dataset lives: repo `housing`, file `/housing.csv`. */
export const DATA_REPO = 'housing';
export const DATA_PATH = '/housing.csv';

export interface LineSpec {
  slope: number;
  intercept: number;
  rows: number;
  seed: number;
  /** Standard deviation of the noise added to y (default 0.5). */
  noise?: number;
}

/** mulberry32: a tiny, fast, seeded PRNG with outputs in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A standard normal sample (Box-Muller) from a uniform source. */
function gaussian(random: () => number): number {
  const u = 1 - random(); // (0, 1]: log(u) is finite
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

const BATCH_ROWS = 10_000;

/** Write `x,y` (header included) to `file`, in batches, respecting backpressure. */
export async function writeLinearCsv(file: string, spec: LineSpec): Promise<void> {
  const random = mulberry32(spec.seed);
  const noise = spec.noise ?? 0.5;
  const out = createWriteStream(file);
  const closed = once(out, 'close');
  try {
    let batch = ['x,y'];
    for (let i = 0; i < spec.rows; i++) {
      const x = random() * 10;
      const y = spec.slope * x + spec.intercept + noise * gaussian(random);
      batch.push(`${x.toFixed(4)},${y.toFixed(4)}`);
      if (batch.length >= BATCH_ROWS) {
        if (!out.write(`${batch.join('\n')}\n`)) await once(out, 'drain');
        batch = [];
      }
    }
    if (batch.length > 0) out.write(`${batch.join('\n')}\n`);
  } finally {
    out.end();
  }
  await closed;
}
