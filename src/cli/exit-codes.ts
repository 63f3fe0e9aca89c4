/** Exit codes of the `switchboard` command: scripts can tell failures apart. */
export const EXIT = {
  ok: 0,
  /** Anything unexpected. */
  error: 1,
  /** Bad command line: unknown command or option, missing or invalid argument. */
  usage: 2,
  /** The server could not be reached. */
  unreachable: 3,
  /** The token is missing, invalid, or may not do this (401, 403). */
  auth: 4,
  /** The resource does not exist (404). */
  notFound: 5,
  /** It conflicts with existing data (409), e.g. a uid or eventId already used. */
  conflict: 6,
  /** The server refused the input (400, 413, 415, 422). */
  invalid: 7,
  /** The server failed or is unavailable (5xx). */
  server: 8,
  /** Rate limited (429): try again later. */
  rateLimited: 9,
  /** `verify`: the signature does not match, or the timestamp is outside the tolerance. */
  verificationFailed: 10,
  /** A waited-for operation did not finish in time. */
  timeout: 11,
  /** `serve`: the data directory (or the SQLite database in it) cannot be written: read-only, no permission, no space. */
  dataDirUnwritable: 12,
} as const;

/** An error the CLI reports as one line, exiting with `exitCode`. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

/** The exit code for an HTTP status the server answered with. */
export function exitCodeForStatus(status: number): number {
  if (status === 401 || status === 403) return EXIT.auth;
  if (status === 404) return EXIT.notFound;
  if (status === 409) return EXIT.conflict;
  if (status === 429) return EXIT.rateLimited;
  if (status === 400 || status === 413 || status === 415 || status === 422) return EXIT.invalid;
  if (status >= 500) return EXIT.server;
  return EXIT.error;
}
