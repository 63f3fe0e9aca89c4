/**
 * The rule every `uid` follows beyond its pattern: it never has the shape of an identifier
 * Switchboard issues. Look-ups take an id or a uid and try the id first, so a uid equal to
 * another object's id would resolve to that object, and a credential scoped by uid would act
 * on the wrong one.
 */
import { invalid } from './errors.js';
import { ID_PREFIX, idKindOf } from './ids.js';

/** Throws a 422 at `loc` if `uid` looks like an id; null and undefined (no uid) pass. */
export function checkUid(uid: string | null | undefined, loc: (string | number)[]): void {
  if (uid === null || uid === undefined) return;
  const kind = idKindOf(uid);
  if (kind === null) return;
  throw invalid(
    loc,
    `uid '${uid}' has the shape of a Switchboard ${kind} id (prefix '${ID_PREFIX[kind]}' and 27 letters or digits); ids and uids share one look-up, so choose a uid that is not shaped like an id`,
    'value_error.uid_looks_like_id',
  );
}
