/** Organisation-wide usage figures: active applications, endpoint counts, messages per application, event types seen. */

export interface UsageStore {
  /** Applications with at least one endpoint (an enabled one when `enabledOnly`). */
  countActiveApplications(enabledOnly: boolean): Promise<number>;
  /** Endpoints of every application, enabled and disabled. */
  countEndpoints(): Promise<{ active: number; disabled: number }>;
  /** Messages created in [since, until) per application (all applications when `appIds` is null); applications with none are left out. */
  messagesPerApplication(appIds: string[] | null, since: number, until: number): Promise<{ appId: string; messages: number }[]>;
  /** The event types of stored messages, sorted. */
  eventTypesSeen(): Promise<string[]>;
}
