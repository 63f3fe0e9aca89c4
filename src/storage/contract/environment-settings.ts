/**
 * Storage of the environment's settings (docs/compatibility.md, "Environment settings"):
 * each setting by name, its value as JSON. An environment import writes them, together with
 * its event types and connectors, through `ConnectorStore.applyEnvironment`. Exposed on the
 * Store as `store.environmentSettings`.
 */
export interface EnvironmentSettingsStore {
  /** Every stored setting, by name; a setting never written is absent. */
  all(): Promise<Record<string, unknown>>;
}
