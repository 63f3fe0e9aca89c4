/** Switchboard's TypeScript SDK: a typed client for its own endpoints and a webhook verifier. */
export { Switchboard } from './client.js';
export { SwitchboardError } from './http.js';
export type { ClientOptions, TokenSource } from './http.js';
export type { MessageListOptions, MessageStreamOptions, StreamedMessage } from './messages.js';
export type { ConsumerPollOptions, PollOptions } from './polling.js';
export type { CronSourceConfig, PollingSourceConfig } from './sources.js';
export { clientCredentials } from './oauth.js';
export type { ClientCredentials } from './oauth.js';
export type { AttemptRef, EndpointRef, OperationalEvent } from './operational-webhooks.js';
export { parseEventStream } from './sse.js';
export type { SseEvent, StreamOptions } from './sse.js';
export { WebhookVerificationError, signature, verifyWebhook } from './verify.js';
export type { HeaderSource, VerifyOptions } from './verify.js';
export type * from './generated/types.js';
