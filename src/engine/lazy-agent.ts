/**
 * An outbound connection pool (an undici `Agent`) made, with undici itself, on its first
 * request: a thread that never sends over HTTP (the main thread when send workers do the
 * sending, a server without polled sources or HTTP sinks) never loads undici.
 */
import type { Agent } from 'undici';

type Undici = typeof import('undici');

export interface AgentAndRequest {
  agent: Agent;
  request: Undici['request'];
}

export class LazyAgent {
  private made: Promise<AgentAndRequest> | null = null;

  constructor(private readonly options: Agent.Options) {}

  /** The pool, and undici's `request` to send through it; made on the first call. */
  get(): Promise<AgentAndRequest> {
    this.made ??= import('undici').then(({ Agent, request }) => ({ agent: new Agent(this.options), request }));
    return this.made;
  }

  /** Closes the pool, if it was made, once its requests in flight have ended. */
  async close(): Promise<void> {
    if (this.made) await (await this.made).agent.close();
  }

  /** Closes the pool, if it was made, at once: requests still in flight fail. */
  async destroy(): Promise<void> {
    if (this.made) await (await this.made).agent.destroy();
  }
}
