/**
 * The environment's settings: the part of Svix's environment settings Switchboard honours
 * (docs/compatibility.md, "Environment settings"). They are set by an environment import and
 * carried by an export. A setting never set has its default; a stored value of the wrong type
 * (written by a later version, say) reads as the default too.
 */
import { invalid } from '../domain/errors.js';
import type { Store } from '../storage/contract/store.js';

export interface EnvironmentSettings {
  /** Endpoint URLs must use https: creating or changing an endpoint to an http URL is refused. */
  enforceHttps: boolean;
}

/** Each setting's default, which is also the list of settings Switchboard keeps. */
export const DEFAULT_SETTINGS: Readonly<EnvironmentSettings> = Object.freeze({ enforceHttps: false });

type SettingName = keyof EnvironmentSettings;

/** The JSON type of each setting's value. */
const TYPES: Record<SettingName, 'boolean'> = { enforceHttps: 'boolean' };

const isSetting = (name: string): name is SettingName => Object.hasOwn(DEFAULT_SETTINGS, name);

/** Effective settings from stored values. */
export function settingsOf(stored: Record<string, unknown>): EnvironmentSettings {
  const out: EnvironmentSettings = { ...DEFAULT_SETTINGS };
  for (const name of Object.keys(DEFAULT_SETTINGS) as SettingName[]) {
    if (typeof stored[name] === TYPES[name]) out[name] = stored[name] as EnvironmentSettings[SettingName];
  }
  return out;
}

/** The environment's effective settings, read from the store. */
export async function environmentSettings(store: Store): Promise<EnvironmentSettings> {
  return settingsOf(await store.environmentSettings.all());
}

/** The settings a document asks for (those it leaves out or sets to null at their defaults), and the names in it Switchboard does not keep. */
export interface SettingsInput {
  settings: EnvironmentSettings;
  ignored: string[];
}

/**
 * Checks the `settings` object of an import. The object is the whole of the settings: a
 * setting it leaves out (or sets to null) takes its default. A value of the wrong type is a
 * 422 at its location; a name Switchboard does not keep is reported, not refused.
 */
export function checkSettings(input: unknown, loc: (string | number)[]): SettingsInput {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw invalid(loc, 'settings must be an object', 'type_error.dict');
  const settings: EnvironmentSettings = { ...DEFAULT_SETTINGS };
  const ignored: string[] = [];
  for (const [name, value] of Object.entries(input)) {
    if (!isSetting(name)) {
      ignored.push(name);
      continue;
    }
    if (value === null) continue;
    if (typeof value !== TYPES[name]) throw invalid([...loc, name], `${name} must be a ${TYPES[name]}`, `type_error.${TYPES[name]}`);
    settings[name] = value as EnvironmentSettings[SettingName];
  }
  return { settings, ignored: ignored.sort() };
}
