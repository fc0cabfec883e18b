/** `datactl hook serve --config FILE`: the standalone git pin bumper receiver (hooks/pin-bumper). */
import type { Command } from 'commander';
import { parsePort, untilSignal } from './serve.js';

interface HookServeOptions {
  config: string;
  host: string;
  port: string;
  logLevel: string;
}

export function registerHook(program: Command, env: NodeJS.ProcessEnv = process.env): void {
  const hook = program.command('hook').description('webhook receivers');

  hook
    .command('serve')
    .description('receive datactl commit events and bump data pins in git repos')
    .requiredOption('--config <file>', 'receiver config (JSON: secret, workDir, server, mappings)')
    .option('--host <host>', 'listen address', '127.0.0.1')
    .option('--port <port>', 'listen port, 0 for any', '8090')
    .option('--log-level <level>', 'fatal|error|warn|info|debug|trace|silent (env DATACTL_LOG_LEVEL)', env['DATACTL_LOG_LEVEL'] || 'info')
    .action(async (opts: HookServeOptions) => {
      const port = parsePort(opts.port);
      const [{ loadReceiverConfig }, { startReceiver }] = await Promise.all([
        import('../../hooks/pin-bumper/config.js'),
        import('../../hooks/pin-bumper/receiver.js'),
      ]);
      const config = await loadReceiverConfig(opts.config, env);
      const receiver = await startReceiver(config, { host: opts.host, port, logLevel: opts.logLevel });
      process.stderr.write(`datactl hook receiver listening on ${receiver.url}\n`);
      await untilSignal();
      await receiver.close();
    });
}
