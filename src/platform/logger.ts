/** The process logger. */
import { pino } from 'pino';
import type { DestinationStream, Logger } from 'pino';

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

/** The process logger: JSON lines, credentials redacted. */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  const opts = { level, redact: { paths: REDACTED_LOG_PATHS, censor: '[redacted]' } };
  return destination ? pino(opts, destination) : pino(opts);
}
