/**
 * The real binary, without a server: usage, help, version and exit codes. Needs a build
 * (`npm test` builds first); skipped when dist/ is missing so a bare `vitest run` says so.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

const built = existsSync(new URL('../../dist/cli/main.js', import.meta.url));
/** A loopback port nothing listens on: bind an ephemeral one, then free it. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

describe.skipIf(!built)('the datactl binary', () => {
  it('prints usage for --help and exits 0', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: datactl');
    for (const group of ['serve', 'repo', 'branch', 'put', 'get', 'list', 'inspect', 'diff', 'delete']) expect(r.stdout).toContain(group);
  });

  it('prints usage for a subcommand', async () => {
    const r = await runCli(['put', 'file', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: datactl put file');
    expect(r.stdout).toContain('--recursive');
  });

  it('prints the package version', async () => {
    expect(await runCli(['--version'])).toMatchObject({ code: 0, stdout: `${pkg.version}\n` });
  });

  it('exits 2 with "datactl: ..." on stderr for usage errors', async () => {
    const unknown = await runCli(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^datactl: unknown command 'frobnicate'/);
    const badName = await runCli(['repo', 'create', 'no spaces']);
    expect(badName.code).toBe(2);
    expect(badName.stderr).toMatch(/^datactl: invalid repo name/);
    expect((await runCli(['put', 'file', 'r@main:/x'])).code).toBe(2); // no -f
    for (const args of [['put', 'file', 'r@main:/x', '-f', 'package.json'], ['delete', 'file', 'r@main:/x']]) {
      const noAuthor = await runCli([...args, '--author', ' ']);
      expect(noAuthor).toMatchObject({ code: 2, stderr: 'datactl: --author must not be empty\n' });
    }
  });

  it('exits 2 for a server URL it cannot use, saying what one looks like', async () => {
    for (const server of ['not a url', 'ftp://files.test/x']) {
      const r = await runCli(['--server', server, 'repo', 'list']);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toBe(`datactl: invalid server URL ${JSON.stringify(server)}: expected http://HOST:PORT or https://HOST (--server or DATACTL_URL)\n`);
    }
  });

  it('exits 6 when the server cannot be reached, naming the URL', async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const r = await runCli(['repo', 'list'], { env: { DATACTL_URL: url } });
    expect(r.code).toBe(6);
    expect(r.stderr).toContain(`cannot reach datactl server at ${url} (connection refused)`);
    expect(r.stdout).toBe('');
    // Credentials in the URL are never echoed.
    const withUser = await runCli(['repo', 'list'], { env: { DATACTL_URL: url.replace('http://', 'http://me:s3cret@') } });
    expect(withUser.code).toBe(6);
    expect(withUser.stderr).toContain(`cannot reach datactl server at ${url.replace('http://', 'http://***@')}`);
    expect(withUser.stderr).not.toContain('s3cret');
  });

  it('exits 6 when something else answers at the URL, even with a 200 of JSON', async () => {
    const other = createHttpServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}'));
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(other.address() as { port: number }).port}`;
      const r = await runCli(['repo', 'list'], { env: { DATACTL_URL: url } });
      expect(r).toMatchObject({ code: 6, stdout: '' });
      expect(r.stderr).toBe(
        `datactl: no datactl server at ${url}: something there answered GET /v1/repos with HTTP 200, without datactl's x-datactl-api header (is it running? set --server or DATACTL_URL)\n`,
      );
    } finally {
      await new Promise((resolve) => other.close(resolve));
    }
  });
});
