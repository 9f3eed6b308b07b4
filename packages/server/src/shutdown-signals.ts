import type { Logger } from 'pino';

/**
 * On the first SIGTERM or SIGINT, logs `message` with the signal, runs `close`, and exits 0 when
 * it resolves (1 when it fails).
 */
export function exitOnSignals(logger: Logger, message: string, close: () => Promise<void>): void {
  const onSignal = (signal: NodeJS.Signals) => {
    logger.info({ signal }, message);
    close().then(
      () => process.exit(0),
      (error) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
}
