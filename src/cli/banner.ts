/**
 * What `switchboard serve` prints first on a terminal: where the API, the dashboard and the
 * docs are, where the data lives, and which mode the server is in.
 */

export interface BannerFacts {
  /** The address the server listens on, e.g. `http://127.0.0.1:8071`. */
  url: string;
  version: string;
  mode: 'production' | 'development';
  role: 'all' | 'api' | 'worker';
  /** `sqlite` with its data directory, or `postgresql`. */
  storage: { kind: 'sqlite'; dataDir: string } | { kind: 'postgresql' };
  /** The SWITCHBOARD_ALLOWED_NETWORKS in force ('' when none). */
  allowedNetworks: string;
  docs: boolean;
  metricsProtected: boolean;
}

/** An address a browser on this machine can open: a wildcard listen address becomes localhost. */
export function browsableUrl(url: string): string {
  return url.replace(/\/\/(0\.0\.0\.0|\[::\])(?=[:/]|$)/, '//localhost');
}

/** The banner's lines, without colour. */
export function bannerText(f: BannerFacts): string {
  const base = browsableUrl(f.url);
  const rows: [string, string][] = [['API', `${base}/api/v1`]];
  if (f.role !== 'worker') rows.push(['Dashboard', `${base}/`]);
  if (f.docs && f.role !== 'worker') rows.push(['API docs', `${base}/docs`]);
  rows.push(['Metrics', `${base}/metrics${f.metricsProtected ? ' (bearer token required)' : ''}`]);
  rows.push(['Data', f.storage.kind === 'sqlite' ? `${f.storage.dataDir} (SQLite)` : 'PostgreSQL (SWITCHBOARD_DATABASE_URL)']);
  const receivers = f.allowedNetworks ? `private networks refused except ${f.allowedNetworks}` : 'private networks and loopback refused (SWITCHBOARD_ALLOWED_NETWORKS)';
  rows.push(['Mode', `${f.mode}${f.role === 'all' ? '' : `, role ${f.role}`}; receivers: ${receivers}`]);
  const width = Math.max(...rows.map(([k]) => k.length));
  const lines = [`Switchboard ${f.version} is listening on ${f.url}`, ...rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`)];
  if (f.url.includes('//127.0.0.1') || f.url.includes('//[::1]') || f.url.includes('//localhost')) {
    lines.push('  Only this machine can connect; set SWITCHBOARD_HOST=0.0.0.0 to serve others.');
  }
  return `\n${lines.join('\n')}\n\n`;
}
