/** The pin bumper's small pure pieces: redaction, the pin file format, config validation, globs. */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { commitMessage, isGitBranchName, isSafeRelativePath } from '../../hooks/pin-bumper/bumper.js';
import { gitEnvironment, GitRunner } from '../../hooks/pin-bumper/git.js';
import { globToRegExp, matchMappings, parseReceiverConfig } from '../../hooks/pin-bumper/config.js';
import { redactDeep, redactError, redactUrl } from '../../hooks/pin-bumper/redact.js';
import { DatactlError } from '../../src/errors.js';
import { formatPinDocument, parsePinDocument, pinAt, samePin, setPin } from '../../src/objects/pin-file.js';

const HEX = 'a'.repeat(64);

describe('redactUrl', () => {
  it.each([
    ['https://user:pass@github.com/org/repo.git', 'https://***@github.com/org/repo.git'],
    ['https://ghp_token123@github.com/x', 'https://***@github.com/x'],
    ["fatal: unable to access 'http://u:p%40ss@host:8080/r.git/': refused", "fatal: unable to access 'http://***@host:8080/r.git/': refused"],
    ['two: https://a:b@h1/x and ssh://git:c@h2/y', 'two: https://***@h1/x and ssh://***@h2/y'],
  ])('redacts %j', (input, expected) => {
    expect(redactUrl(input)).toBe(expected);
  });

  it.each(['https://github.com/org/repo.git', 'git@github.com:org/repo.git', '/srv/git/repo.git', 'datactl <datactl@localhost>'])(
    'leaves %j alone',
    (input) => expect(redactUrl(input)).toBe(input),
  );

  it('redacts deep inside log objects and errors, keeping error codes', () => {
    expect(redactDeep({ a: ['x https://u:p@h/r'], n: 1 })).toEqual({ a: ['x https://***@h/r'], n: 1 });
    const err = redactError(new DatactlError('E_BAD_REQUEST', 'bad https://u:secret@h/r'));
    expect(err).toBeInstanceOf(DatactlError);
    expect((err as DatactlError).code).toBe('E_BAD_REQUEST');
    expect(err.message).toBe('bad https://***@h/r');
    expect(err.stack).not.toContain('secret');
  });
});

describe('the pin file format', () => {
  it('sets a key in place, appends a new one last, and formats with 2 spaces and a newline', () => {
    const doc = parsePinDocument('{"b":1,"train":{"repo":"x"},"a":[1]}');
    const pin = { repo: 'images', branch: 'main', commit: HEX };
    expect(formatPinDocument(setPin(doc, 'train', pin))).toBe(
      `{\n  "b": 1,\n  "train": {\n    "repo": "images",\n    "branch": "main",\n    "commit": "${HEX}"\n  },\n  "a": [\n    1\n  ]\n}\n`,
    );
    expect(Object.keys(setPin(doc, 'eval', pin))).toEqual(['b', 'train', 'a', 'eval']);
    expect(doc).toEqual({ b: 1, train: { repo: 'x' }, a: [1] }); // not mutated
  });

  it('reads pins loosely and compares them exactly', () => {
    const doc = parsePinDocument(`{"t":{"repo":"images","branch":"main","commit":"${HEX}"},"b":{"repo":"images","branch":"main"},"s":"x"}`);
    expect(pinAt(doc, 't')).toEqual({ repo: 'images', branch: 'main', commit: HEX });
    expect(pinAt(doc, 'b')).toEqual({ repo: 'images', branch: 'main', commit: null });
    expect(pinAt(doc, 's')).toBeUndefined();
    expect(pinAt(doc, 'missing')).toBeUndefined();
    expect(samePin(pinAt(doc, 't'), { repo: 'images', branch: 'main', commit: HEX })).toBe(true);
    expect(samePin(pinAt(doc, 't'), { repo: 'images', branch: 'dev', commit: HEX })).toBe(false);
  });

  it('treats an empty file as empty and refuses anything but a JSON object', () => {
    expect(parsePinDocument('  \n')).toEqual({});
    expect(() => parsePinDocument('[1]', 'data.json')).toThrow('data.json must hold a JSON object');
    expect(() => parsePinDocument('{', 'data.json')).toThrow(/data.json is not valid JSON/);
  });

  it('commit messages carry the pin as trailers', () => {
    expect(commitMessage('train', { repo: 'images', branch: 'main', commit: HEX })).toBe(
      `data: pin train to images@${HEX.slice(0, 12)}\n\nData-Repo: images\nData-Branch: main\nData-Commit: ${HEX}`,
    );
  });
});

describe('pin targets', () => {
  it.each(['main', 'release/v1', 'feature-x_2'])('accepts the branch %j', (b) => expect(isGitBranchName(b)).toBe(true));
  it.each(['', '-x', 'a..b', 'a b', 'x.lock', '/x', 'x/', 'a/.hidden', 'a//b', 'x.'])('rejects the branch %j', (b) => expect(isGitBranchName(b)).toBe(false));
  it.each(['data.json', 'configuration/data.json'])('accepts the pin file %j', (p) => expect(isSafeRelativePath(p)).toBe(true));
  it.each(['', '/etc/passwd', '../x', 'a/../../x', './x', '.git/config', 'sub/.git/x.json', '.GIT/config', 'a//b', 'a\\b', 'a\nb'])('rejects the pin file %j', (p) => expect(isSafeRelativePath(p)).toBe(false));
});

describe('receiver config', () => {
  const valid = () => ({
    secret: 's',
    workDir: 'work',
    mappings: [{ repo: 'images', branch: 'main', target: { url: '/srv/code.git', branch: 'main', pinFile: 'configuration/data.json', key: 'train' } }],
  });

  it('resolves workDir against the config file and defaults branch globs and target branches', () => {
    const raw = valid();
    delete (raw.mappings[0] as { branch?: string }).branch;
    delete (raw.mappings[0]!.target as { branch?: string }).branch;
    const config = parseReceiverConfig(raw, '/etc/datactl', {});
    expect(config.workDir).toBe(path.resolve('/etc/datactl/work'));
    expect(config.mappings[0]).toMatchObject({ branch: '*', target: { branch: 'main' } });
  });

  it('takes the secret from DATACTL_HOOK_SECRET when the file has none', () => {
    const raw: Record<string, unknown> = valid();
    delete raw['secret'];
    expect(parseReceiverConfig(raw, '/', { DATACTL_HOOK_SECRET: 'from-env' }).secret).toBe('from-env');
    expect(() => parseReceiverConfig(raw, '/', {})).toThrow('invalid receiver config: secret must be a non-empty string (or set DATACTL_HOOK_SECRET)');
  });

  it.each([
    [(c: any) => (c.mappings = []), 'mappings must be a non-empty array'],
    [(c: any) => (c.mappings[0].target.pinFile = '../x.json'), 'mappings[0].target.pinFile must be a relative path'],
    [(c: any) => (c.mappings[0].target.url = ''), 'mappings[0].target.url must be a non-empty string'],
    [(c: any) => (c.mappings[0].target.branch = 'a..b'), 'mappings[0].target.branch "a..b" is not a valid git branch name'],
    [(c: any) => delete c.mappings[0].target.key, 'mappings[0].target.key must be a non-empty string'],
    [(c: any) => (c.server = 'ftp://x'), 'server must be an http(s) URL'],
    [(c: any) => (c.secrett = 'x'), 'secrett is not a known setting'],
    [(c: any) => delete c.workDir, 'workDir must be a non-empty string'],
  ])('names the field in the error (%#)', (mutate, message) => {
    const raw = valid();
    mutate(raw);
    expect(() => parseReceiverConfig(raw, '/', {})).toThrow(message);
  });

  it('matches repo and branch globs', () => {
    expect(globToRegExp('release-*').test('release-1.2')).toBe(true);
    expect(globToRegExp('release-*').test('main')).toBe(false);
    expect(globToRegExp('v?').test('v1')).toBe(true);
    expect(globToRegExp('a.b').test('axb')).toBe(false);
    const config = parseReceiverConfig({ ...valid(), mappings: [...valid().mappings, { repo: 'ima*', branch: '*', target: valid().mappings[0]!.target }] }, '/', {});
    expect(matchMappings(config, 'images', 'main')).toHaveLength(2);
    expect(matchMappings(config, 'images', 'dev')).toHaveLength(1);
    expect(matchMappings(config, 'labels', 'main')).toHaveLength(0);
  });
});

describe('the git environment', () => {
  it('passes credential helpers through, drops other GIT_* variables, turns prompts off, defaults the identity', async () => {
    const env = gitEnvironment({ PATH: process.env['PATH'], GIT_ASKPASS: '/bin/true', GIT_SSH_COMMAND: 'ssh -o BatchMode=yes', GIT_DIR: '/elsewhere', EDITOR: 'vi' });
    expect(env).toMatchObject({ GIT_ASKPASS: '/bin/true', GIT_SSH_COMMAND: 'ssh -o BatchMode=yes', GIT_TERMINAL_PROMPT: '0' });
    expect(env).toMatchObject({ GIT_AUTHOR_NAME: 'datactl', GIT_AUTHOR_EMAIL: 'datactl@localhost', GIT_COMMITTER_NAME: 'datactl', GIT_COMMITTER_EMAIL: 'datactl@localhost' });
    expect(env['GIT_DIR']).toBeUndefined();
    expect(env['EDITOR']).toBeUndefined();
    // simple-git accepts this environment (it refuses unknown guarded variables).
    expect(await new GitRunner(process.cwd(), env).run(['--version'])).toMatch(/^git version/);
    expect(gitEnvironment({ GIT_AUTHOR_NAME: 'Bot', GIT_AUTHOR_EMAIL: 'bot@x' })).toMatchObject({ GIT_COMMITTER_NAME: 'Bot', GIT_COMMITTER_EMAIL: 'bot@x' });
  });
});
