/** The process logger: JSON lines for machines, readable lines for a person at a terminal. */
import { pino } from 'pino';
import { createRequire } from 'node:module';
import type { DestinationStream, Logger } from 'pino';
import type pinoPretty from 'pino-pretty';

/** Log paths that may hold credentials; their values are replaced before a line is written. */
export const REDACTED_LOG_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'headers.cookie',
  'request.headers.authorization',
  '*.authorization',
  '*.token',
  '*.secret',
  '*.key',
  '*.access_token',
  '*.client_secret',
  '*.password',
];

export type LogFormat = 'auto' | 'json' | 'pretty';

/** Whether `format` means readable lines here: `auto` is pretty on a terminal only. */
export function isPretty(format: LogFormat, isTerminal: boolean = process.stdout.isTTY === true): boolean {
  return format === 'pretty' || (format === 'auto' && isTerminal);
}

/** The process logger, credentials redacted: JSON lines, or readable lines when `format` says so. */
export function createLogger(level: string, destination?: DestinationStream, format: LogFormat = 'json'): Logger {
  const opts = { level, redact: { paths: REDACTED_LOG_PATHS, censor: '[redacted]' } };
  if (isPretty(format)) {
    // Loaded only for a person at a terminal. Synchronous, in this thread: a line is on the
    // terminal before the next one is logged.
    const pretty = createRequire(import.meta.url)('pino-pretty') as typeof pinoPretty;
    const stream = pretty({ colorize: process.stdout.isTTY === true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname', sync: true, destination: destination ?? 1 });
    return pino(opts, stream);
  }
  return destination ? pino(opts, destination) : pino(opts);
}
