/**
 * A GET that reads its body in small bites with pauses, so the server's socket stays full and
 * its writes wait (backpressure), as with a slow client on a slow link.
 */
import http from 'node:http';

export interface SlowGetResult {
  status: number;
  body: Buffer;
  /** Whether the whole body arrived (false: the server cut the response short). */
  complete: boolean;
}

export function slowGet(url: string): Promise<SlowGetResult> {
  return new Promise((resolve, reject) => {
    http
      .get(url, (res) => {
        const parts: Buffer[] = [];
        const done = (complete: boolean) => resolve({ status: res.statusCode!, body: Buffer.concat(parts), complete });
        res.on('data', (part: Buffer) => {
          parts.push(part);
          res.pause();
          setTimeout(() => res.resume(), 1);
        });
        res.on('end', () => done(res.complete));
        res.on('error', () => done(false));
      })
      .on('error', reject);
  });
}
