/** Small helpers shared by route modules. */
import { invalid } from '../../domain/errors.js';
import type { Order, PageQuery } from '../../storage/contract/store.js';

export interface PageQs {
  limit?: number;
  iterator?: string;
  order?: Order;
}

export function pageOf(q: PageQs): PageQuery {
  return { limit: q.limit ?? 50, iterator: q.iterator, order: q.order };
}

/** Splits list query values: `a,b` and repeated parameters both work. */
export function listParam(v: string[] | string | undefined): string[] | undefined {
  if (v === undefined) return undefined;
  const parts = (Array.isArray(v) ? v : [v]).flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean);
  return parts.length > 0 ? parts : undefined;
}

/** Parses an ISO date-time into epoch ms, or undefined when absent. */
export function timeParam(v: string | null | undefined, loc: string[]): number | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw invalid(loc, 'expected an RFC 3339 date-time');
  return t;
}

export const listQueryArray = { type: 'array', items: { type: 'string', maxLength: 4096 }, maxItems: 100 } as const;
