/**
 * An outbound connection pool (an undici `Agent`) made, with undici's client itself, on its
 * first request: a thread that never sends over HTTP (the main thread when send workers do
 * the sending, a server without polled sources or HTTP sinks) never loads it. Requests go
 * through it with `cappedRequest` (`platform/http-client.ts`, passed on here for the bridges).
 */
import type { Agent } from 'undici';
import { agentClass } from '../platform/http-client.js';

export { cappedRequest, originAndPath, RequestDeadlineError } from '../platform/http-client.js';

export class LazyAgent {
  private made: Agent | null = null;

  constructor(private readonly options: Agent.Options) {}

  /** The pool; made on the first call. */
  get(): Agent {
    return (this.made ??= new (agentClass())(this.options));
  }

  /**
   * Closes the pool, if it was made, at once: a request still in flight fails instead of
   * holding its owner's shutdown until its timeout (a receiver that hangs). Owners close it
   * when they stop, once whatever they wait for has had its grace, or when nothing is in flight.
   */
  async close(): Promise<void> {
    await this.made?.destroy();
  }
}
