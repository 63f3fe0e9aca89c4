/** Helpers of the tests that walk the whole route table: request paths and bodies that get past validation. */

/** A minimal instance of a JSON schema, so that requests get past validation to the handler. */
export function sample(schema: any, depth = 0): unknown {
  if (!schema || typeof schema !== 'object' || depth > 6) return undefined;
  if (schema.const !== undefined) return schema.const;
  if (Array.isArray(schema.enum)) return schema.enum.find((v: unknown) => v !== null);
  for (const k of ['anyOf', 'oneOf', 'allOf']) if (Array.isArray(schema[k])) return sample(schema[k][0], depth + 1);
  const type = Array.isArray(schema.type) ? schema.type.find((t: string) => t !== 'null') : schema.type;
  switch (type) {
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const name of schema.required ?? []) out[name] = sample(schema.properties?.[name] ?? { type: 'string' }, depth + 1);
      return out;
    }
    case 'array':
      return Array.from({ length: schema.minItems ?? 0 }, () => sample(schema.items, depth + 1));
    case 'integer':
    case 'number':
      return Math.max(schema.minimum ?? 0, schema.exclusiveMinimum !== undefined ? schema.exclusiveMinimum + 1 : 0);
    case 'boolean':
      return false;
    case 'string': {
      if (schema.format === 'date-time') return new Date(Date.now() - 3600_000).toISOString();
      if (schema.format === 'uri' || schema.format === 'url') return 'https://example.com/';
      if (/url/i.test(schema.description ?? '')) return 'https://example.com/';
      return 'walk'.padEnd(schema.minLength ?? 1, 'x');
    }
    default:
      return schema.properties ? sample({ ...schema, type: 'object' }, depth) : undefined;
  }
}

/** The names of a route's path parameters. */
export const paramsOf = (url: string): string[] => [...url.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1]!);

/** The route's path with its parameters filled by `fill`. */
export function pathOf(url: string, fill: (param: string) => string): string {
  return url.replace(/:([A-Za-z0-9_]+)(\([^)]*\))?/g, (_m, p: string) => encodeURIComponent(fill(p))).replace(/\*/g, 'walk');
}
