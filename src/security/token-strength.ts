/**
 * Whether an operator-chosen admin token is too weak to guard the whole organisation.
 * Generated tokens (`sb_admin_` and 43 base64url characters) always pass. The rules are
 * deliberately simple and stated in docs/security.md:
 *
 * - at least 32 characters (a random token that long from any keyboard alphabet carries
 *   well over 100 bits);
 * - at least 10 distinct characters (refuses `aaaa…`, `abab…`, short words repeated);
 * - not digits only (a number, a date or a phone number pasted several times).
 */

export const MIN_ADMIN_TOKEN_LENGTH = 32;
export const MIN_ADMIN_TOKEN_DISTINCT_CHARACTERS = 10;

/** Why the token is weak, in words an operator can act on; null when it is strong enough. */
export function adminTokenWeakness(token: string): string | null {
  const characters = [...token];
  if (characters.length < MIN_ADMIN_TOKEN_LENGTH) {
    return `it has ${characters.length} characters; at least ${MIN_ADMIN_TOKEN_LENGTH} are needed`;
  }
  const distinct = new Set(characters).size;
  if (distinct < MIN_ADMIN_TOKEN_DISTINCT_CHARACTERS) {
    return `it uses only ${distinct} distinct characters; at least ${MIN_ADMIN_TOKEN_DISTINCT_CHARACTERS} are needed`;
  }
  if (/^[0-9]+$/.test(token)) return 'it is made of digits only';
  return null;
}
