/** The demo's "training": an ordinary least-squares line through the `x,y` rows of a CSV. */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';

export interface LinearFit {
  rows: number;
  slope: number;
  intercept: number;
  /** Coefficient of determination: 1 is a perfect line. */
  r2: number;
}

/** Streaming least squares with Welford-style centered sums (stable for any row count). */
export class LeastSquares {
  private n = 0;
  private meanX = 0;
  private meanY = 0;
  private sxx = 0;
  private syy = 0;
  private sxy = 0;

  add(x: number, y: number): void {
    this.n++;
    const dx = x - this.meanX;
    const dy = y - this.meanY;
    this.meanX += dx / this.n;
    this.meanY += dy / this.n;
    this.sxx += dx * (x - this.meanX);
    this.syy += dy * (y - this.meanY);
    this.sxy += dx * (y - this.meanY);
  }

  result(): LinearFit {
    if (this.n < 2 || this.sxx === 0) throw new Error(`cannot fit a line through ${this.n} rows${this.n >= 2 ? ' with a single x value' : ''}`);
    const slope = this.sxy / this.sxx;
    const r2 = this.syy === 0 ? 1 : (this.sxy * this.sxy) / (this.sxx * this.syy);
    return { rows: this.n, slope, intercept: this.meanY - slope * this.meanX, r2 };
  }
}

/** Fit the `x,y` columns of a CSV file (header `x,y` required), streamed line by line. */
export async function fitCsv(file: string): Promise<LinearFit> {
  const fit = new LeastSquares();
  const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  let lineNo = 0;
  for await (const line of lines) {
    lineNo++;
    if (lineNo === 1) {
      if (line.trim() !== 'x,y') throw new Error(`${file}: expected the header "x,y", found ${JSON.stringify(line.slice(0, 40))}`);
      continue;
    }
    if (line === '') continue;
    const [xs, ys, extra] = line.split(',');
    const x = Number(xs);
    const y = Number(ys);
    if (extra !== undefined || xs === '' || ys === undefined || ys === '' || !Number.isFinite(x) || !Number.isFinite(y)) {
      throw new Error(`${file}:${lineNo}: expected two numbers "x,y", found ${JSON.stringify(line.slice(0, 40))}`);
    }
    fit.add(x, y);
  }
  return fit.result();
}
