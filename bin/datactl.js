#!/usr/bin/env node
// The datactl CLI entry: a thin shim over the compiled program in dist/.
import { existsSync } from 'node:fs';

const main = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write('datactl: not built yet; run npm run build\n');
  process.exit(1);
}
const { run } = await import(main.href);
process.exitCode = await run(process.argv);
