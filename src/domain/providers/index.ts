/** The provider types a webhook source can have, and their verifiers. */
import { basicAuth, bearer, genericHmac, genericWebhook } from './generic.js';
import { github } from './github.js';
import { shopify } from './shopify.js';
import { slack } from './slack.js';
import { standardWebhooks } from './standard-webhooks.js';
import { stripe } from './stripe.js';
import { twilio } from './twilio.js';
import type { ProviderSpec } from './types.js';

/** Providers that sign their webhooks with Svix (the Standard Webhooks scheme). */
export const SVIX_SIGNED_TYPES = [
  'svix',
  'standard-webhooks',
  'beehiiv',
  'brex',
  'clerk',
  'guesty',
  'incident-io',
  'lithic',
  'nash',
  'open-ai',
  'pleo',
  'psi-fi',
  'render',
  'replicate',
  'resend',
  'safebase',
  'sardine',
  'stych',
] as const;

// Config types are erased here: a config only ever reaches the spec that parsed it.
const PROVIDERS: ReadonlyMap<string, ProviderSpec<unknown>> = new Map<string, ProviderSpec<unknown>>([
  ['generic-webhook', genericWebhook],
  ['generic-hmac', genericHmac],
  ['basic-auth', basicAuth],
  ['bearer', bearer],
  ['stripe', stripe],
  ['github', github],
  ['shopify', shopify],
  ['slack', slack],
  ['twilio', twilio],
  ...SVIX_SIGNED_TYPES.map((t): [string, ProviderSpec<unknown>] => [t, standardWebhooks]),
]);

/** Source types that run on a schedule instead of receiving requests. */
export const SCHEDULED_TYPES = ['poll', 'cron'] as const;

/** Every source type, in documentation order. */
export const SOURCE_TYPES: readonly string[] = [...PROVIDERS.keys(), ...SCHEDULED_TYPES];

/** The verifier of a webhook source type, or undefined for scheduled or unknown types. */
export function providerOf(type: string): ProviderSpec<unknown> | undefined {
  return PROVIDERS.get(type);
}

export type { InboundRequest, ParsedBody, ProviderSpec, Verification, Challenge } from './types.js';
