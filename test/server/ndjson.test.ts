/** Line splitting of NDJSON bodies: pieces arrive cut anywhere, lines are numbered for errors. */
import { describe, expect, it } from 'vitest';
import { ndjsonLines, type LineLimits } from '../../server/ndjson.js';

const roomy: LineLimits = { maxLineBytes: 1024, maxBodyBytes: 1 << 20 };

async function* body(pieces: Array<string | Buffer>) {
  for (const p of pieces) yield typeof p === 'string' ? Buffer.from(p) : p;
}

async function lines(pieces: Array<string | Buffer>, limits = roomy) {
  const out: Array<[number, string]> = [];
  for await (const batch of ndjsonLines(body(pieces), limits)) for (const l of batch) out.push([l.line, l.text]);
  return out;
}

/** How many lines each batch held. */
async function batchSizes(pieces: Array<string | Buffer>) {
  const out: number[] = [];
  for await (const batch of ndjsonLines(body(pieces), roomy)) out.push(batch.length);
  return out;
}

describe('ndjson lines', () => {
  it('joins lines cut across pieces and numbers them from 1', async () => {
    expect(await lines(['{"a"', ':1}\n{"b":', '2}\n', '{"c":3}\n'])).toEqual([[1, '{"a":1}'], [2, '{"b":2}'], [3, '{"c":3}']]);
  });

  it('yields the lines each piece completes as one batch, and no empty batches', async () => {
    // Piece 1 completes two lines; piece 2 none (blank lines only, or a partial line); the
    // unterminated last line comes alone at the end.
    expect(await batchSizes(['{"a":1}\n{"b":2}\n{"c"', ':3', '}\n\n', '{"d":4}'])).toEqual([2, 1, 1]);
    expect(await batchSizes(['\n\n', '{"a":1}\n'])).toEqual([1]);
  });

  it('skips blank lines but counts them, accepts CRLF and a last line without a newline', async () => {
    expect(await lines(['{"a":1}\r\n\n  \r\n{"b":2}'])).toEqual([[1, '{"a":1}\r'], [4, '{"b":2}']]);
  });

  it('decodes a multi-byte character cut between two pieces', async () => {
    const bytes = Buffer.from('{"p":"/é"}\n');
    const cut = bytes.indexOf(0xc3) + 1;
    expect(await lines([bytes.subarray(0, cut), bytes.subarray(cut)])).toEqual([[1, '{"p":"/é"}']]);
  });

  it('rejects a line longer than the limit, naming it, even before its newline arrives', async () => {
    const limits = { maxLineBytes: 8, maxBodyBytes: 1 << 20 };
    await expect(lines(['{"a":1}\n{"long":', '"xxxxxxxx"}\n'], limits)).rejects.toMatchObject({ code: 'E_PAYLOAD_TOO_LARGE', details: { line: 2 } });
    await expect(lines(['{"a":1}\n', '123456789'], limits)).rejects.toMatchObject({ code: 'E_PAYLOAD_TOO_LARGE', details: { line: 2 } });
  });

  it('rejects a body larger than the limit', async () => {
    await expect(lines(['{}\n'.repeat(10)], { maxLineBytes: 8, maxBodyBytes: 20 })).rejects.toMatchObject({ code: 'E_PAYLOAD_TOO_LARGE' });
  });

  it('reports a body cut off by the connection as a truncated upload', async () => {
    async function* broken() {
      yield Buffer.from('{"a":1}\n');
      throw Object.assign(new Error('aborted'), { code: 'ECONNRESET' });
    }
    const read = async () => {
      for await (const _ of ndjsonLines(broken(), roomy)) void _;
    };
    await expect(read()).rejects.toMatchObject({ code: 'E_TRUNCATED_UPLOAD' });
  });
});
