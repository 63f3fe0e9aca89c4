/** How the dashboard describes attempts. */
import type { Attempt } from './types';

/** Why an attempt failed, in one line: the status code and the start of the response or error. */
export function failureReason(a: Attempt): string {
  const text = a.response.replace(/\s+/g, ' ').trim();
  const excerpt = text.length > 140 ? `${text.slice(0, 140)}…` : text;
  if (a.responseStatusCode) return `HTTP ${a.responseStatusCode}${excerpt ? `: ${excerpt}` : ''}`;
  return excerpt || 'no response';
}
