/**
 * An outbound connection pool (an undici `Agent`) made, with undici's client itself, on its
 * first request: a thread that never sends over HTTP (the main thread when send workers do
 * the sending, a server without polled sources or HTTP sinks) never loads it.
 */
import type { Agent } from 'undici';
import { agentClass, request } from '../platform/http-client.js';

export interface AgentAndRequest {
  agent: Agent;
  request: typeof request;
}

export class LazyAgent {
  private made: AgentAndRequest | null = null;

  constructor(private readonly options: Agent.Options) {}

  /** The pool, and the `request` to send through it; made on the first call. */
  async get(): Promise<AgentAndRequest> {
    if (this.made) return this.made;
    const Pool = agentClass();
    return (this.made = { agent: new Pool(this.options), request });
  }

  /**
   * Closes the pool, if it was made, at once: a request still in flight fails instead of
   * holding its owner's shutdown until its timeout (a receiver that hangs). Owners close it
   * when they stop, once whatever they wait for has had its grace, or when nothing is in flight.
   */
  async close(): Promise<void> {
    await this.made?.agent.destroy();
  }
}
