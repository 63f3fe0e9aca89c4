/**
 * What provider verifiers work on: the request exactly as received, and what a verified
 * request turns into. Pure: no I/O, only bytes, strings and the time passed in.
 */

/** A received webhook request. */
export interface InboundRequest {
  /** The body bytes exactly as received: signatures are computed over these. */
  body: Buffer;
  /** Header names in lower case; repeated headers joined with ", ". */
  headers: Readonly<Record<string, string | undefined>>;
  /** The full URL the provider called (public base URL, path and query), for schemes that sign it. */
  url: string;
  nowMs: number;
}

/** The body, parsed once for everything that reads it. */
export interface ParsedBody {
  /** The content type without parameters, lower case ('' when absent). */
  contentType: string;
  /** The body as UTF-8 text, or null when it is not valid UTF-8. */
  text: string | null;
  /** The parsed JSON value, when the body is JSON. */
  json: unknown;
  /** Whether `json` holds a parsed value (JSON `null` is a value too). */
  isJson: boolean;
  /** Form fields, when the body is `application/x-www-form-urlencoded`. */
  form: URLSearchParams | null;
}

export type Verification = { ok: true } | { ok: false; reason: string };

/** A reply the provider expects instead of an acknowledgement (Slack's url_verification). */
export interface Challenge {
  contentType: string;
  body: string;
}

/** One provider type: how its sources are configured and how its requests are checked. */
export interface ProviderSpec<C = unknown> {
  /** Validates a source's `config` and returns it normalised; throws a 422 AppError. */
  parseConfig(raw: Record<string, unknown>): C;
  /** The config fields that may be shown back (never secrets). */
  publicConfig(c: C): Record<string, unknown>;
  /** Checks the request exactly as the provider signs it. */
  verify(req: InboundRequest, body: ParsedBody, c: C): Verification;
  /** The event type of the message the request becomes (before sanitising). */
  eventType(req: InboundRequest, body: ParsedBody, c: C): string | null;
  /** The provider's delivery or event id, used to drop duplicates; null if it has none. */
  eventId(req: InboundRequest, body: ParsedBody, c: C): string | null;
  /** A verified request that must be answered, not forwarded. */
  challenge?(req: InboundRequest, body: ParsedBody, c: C): Challenge | null;
}
