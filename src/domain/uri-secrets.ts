/**
 * Credentials in URIs (broker URIs of sinks and queue sources): a URI shown with its secrets
 * replaced by `***`, in the form it was written, and a text (an error from a client library)
 * cleaned of the URI and of every secret it carries, raw and percent-decoded.
 */

export const MASK = '***';

/** Query parameters that may carry a secret (`password=`, `token=`, `secret=`, `key=`, `auth...`). */
const SECRET_PARAM = /pass|token|secret|key|auth/i;

/**
 * The URI with its password, a user given alone (which may be a token) and secret-looking
 * query parameters replaced by `***`; an unparseable one as `(invalid URI)`.
 */
export function maskUri(uri: string): string {
  try {
    new URL(uri);
  } catch {
    return '(invalid URI)';
  }
  let out = uri.replace(/^([a-zA-Z][a-zA-Z0-9+.-]*:\/\/)([^/?#@]*)@/, (_, scheme: string, userinfo: string) => {
    const colon = userinfo.indexOf(':');
    if (colon >= 0) return `${scheme}${userinfo.slice(0, colon)}:${MASK}@`;
    return userinfo === '' ? `${scheme}@` : `${scheme}${MASK}@`;
  });
  out = out.replace(/([?&])([^=&#]*)=([^&#]*)/g, (whole, sep: string, k: string) => (SECRET_PARAM.test(decodeSafely(k)) ? `${sep}${k}=${MASK}` : whole));
  return out;
}

/** The secrets a URI carries (password, or a lone user; secret query values), raw and percent-decoded, longest first. */
export function uriSecrets(uri: string): string[] {
  let u: URL;
  try {
    u = new URL(uri);
  } catch {
    return [];
  }
  const raw = [u.password || u.username, ...[...u.searchParams].filter(([k]) => SECRET_PARAM.test(k)).map(([, v]) => v)];
  const out = new Set<string>();
  for (const s of raw) {
    if (!s) continue;
    out.add(s);
    out.add(decodeSafely(s));
  }
  return [...out].filter((s) => s.length > 0).sort((a, b) => b.length - a.length);
}

/** `text` with the URI masked and every secret of it replaced by `***`. */
export function maskSecrets(text: string, uri: string): string {
  let out = text.split(uri).join(maskUri(uri));
  for (const s of uriSecrets(uri)) out = out.split(s).join(MASK);
  return out;
}

function decodeSafely(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s; // not valid percent-encoding: the raw form is masked
  }
}
