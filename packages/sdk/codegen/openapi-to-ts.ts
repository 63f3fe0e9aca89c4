/**
 * Generates the SDK's TypeScript types from the server's OpenAPI document: the request and
 * response schemas of the operations the SDK calls, and the component schemas they use.
 */

export interface TypeSpec {
  /** Name of the exported type. */
  name: string;
  /** `METHOD /path` as in the document. */
  operation: string;
  /** The JSON request body, or the response of `status`. */
  part: 'body' | 'response';
  status?: string;
}

type Schema = Record<string, unknown>;
type Doc = { paths?: Record<string, Record<string, Schema>>; components?: { schemas?: Record<string, Schema> } };

const IDENT = /^[A-Za-z_$][\w$]*$/;

/** Finds the schema a spec points at. */
function locate(doc: Doc, spec: TypeSpec): Schema {
  const [method, path] = spec.operation.split(' ') as [string, string];
  const op = doc.paths?.[path]?.[method.toLowerCase()];
  if (!op) throw new Error(`${spec.operation} is not in the document`);
  if (spec.part === 'body') {
    const schema = (op.requestBody as { content?: Record<string, { schema?: Schema }> } | undefined)?.content?.['application/json']?.schema;
    if (!schema) throw new Error(`${spec.operation} has no JSON request body`);
    return schema;
  }
  const responses = op.responses as Record<string, { content?: Record<string, { schema?: Schema }> }>;
  const schema = responses[spec.status ?? '200']?.content?.['application/json']?.schema;
  if (!schema) throw new Error(`${spec.operation} has no JSON ${spec.status ?? '200'} response`);
  return schema;
}

/** Canonical text of a schema, to recognise the same schema in two places. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return '[' + v.map(canonical).join(',') + ']';
  if (v && typeof v === 'object') {
    const entries = Object.entries(v as Schema)
      .filter(([k, x]) => x !== undefined && k !== 'description')
      .sort(([a], [b]) => (a < b ? -1 : 1));
    return '{' + entries.map(([k, x]) => JSON.stringify(k) + ':' + canonical(x)).join(',') + '}';
  }
  return JSON.stringify(v);
}

class Writer {
  readonly components = new Set<string>();
  /** Schemas already exported under a name: a copy elsewhere refers to that name. */
  readonly known = new Map<string, string>();

  constructor(private readonly doc: Doc) {}

  /** The TypeScript type of a schema; `self` is the name being defined, which must not refer to itself. */
  type(s: unknown, indent: string, self?: string): string {
    if (s === true || s === undefined) return 'unknown';
    if (!s || typeof s !== 'object') return 'unknown';
    const schema = s as Schema;
    const same = this.known.get(canonical(schema));
    if (same && same !== self) return same;
    if (typeof schema.$ref === 'string') {
      const name = schema.$ref.replace('#/components/schemas/', '');
      if (!this.doc.components?.schemas?.[name]) throw new Error(`unresolvable ${schema.$ref}`);
      this.components.add(name);
      return name;
    }
    if ('const' in schema) return JSON.stringify(schema.const);
    if (Array.isArray(schema.enum)) return schema.enum.map((v) => JSON.stringify(v)).join(' | ');
    for (const key of ['anyOf', 'oneOf'] as const) {
      if (Array.isArray(schema[key])) return (schema[key] as unknown[]).map((x) => this.wrap(this.type(x, indent))).join(' | ');
    }
    if (Array.isArray(schema.allOf)) return (schema.allOf as unknown[]).map((x) => this.wrap(this.type(x, indent))).join(' & ');
    const types = Array.isArray(schema.type) ? (schema.type as string[]) : typeof schema.type === 'string' ? [schema.type] : schema.properties ? ['object'] : [];
    if (types.length === 0) return 'unknown';
    return types.map((t) => this.wrap(this.single(t, schema, indent))).join(' | ');
  }

  /** Parenthesises a union or intersection (at its top level) so it can be an array item or a union member. */
  private wrap(t: string): string {
    let depth = 0;
    for (const ch of t) {
      if (ch === '(' || ch === '{' || ch === '[') depth++;
      else if (ch === ')' || ch === '}' || ch === ']') depth--;
      else if (depth === 0 && (ch === '|' || ch === '&')) return `(${t})`;
    }
    return t;
  }

  private single(t: string, s: Schema, indent: string): string {
    switch (t) {
      case 'string':
        return 'string';
      case 'integer':
      case 'number':
        return 'number';
      case 'boolean':
        return 'boolean';
      case 'null':
        return 'null';
      case 'array':
        return `${this.wrap(this.type(s.items, indent))}[]`;
      case 'object':
        return this.object(s, indent);
      default:
        return 'unknown';
    }
  }

  private object(s: Schema, indent: string): string {
    const props = (s.properties ?? {}) as Record<string, unknown>;
    const required = new Set((s.required ?? []) as string[]);
    const extra = s.additionalProperties;
    const inner = indent + '  ';
    const lines: string[] = [];
    for (const [key, value] of Object.entries(props)) {
      const doc = (value as Schema | undefined)?.description;
      if (typeof doc === 'string' && doc) lines.push(`${inner}/** ${doc.replace(/\*\//g, '*\\/').replace(/\s+/g, ' ')} */`);
      lines.push(`${inner}${IDENT.test(key) ? key : JSON.stringify(key)}${required.has(key) ? '' : '?'}: ${this.type(value, inner)};`);
    }
    if (extra && typeof extra === 'object') lines.push(`${inner}[key: string]: ${Object.keys(props).length ? 'unknown' : this.type(extra, inner)};`);
    else if (extra === true || (extra === undefined && Object.keys(props).length === 0)) lines.push(`${inner}[key: string]: unknown;`);
    return lines.length === 0 ? 'Record<string, never>' : `{\n${lines.join('\n')}\n${indent}}`;
  }
}

/** The text of the generated module. */
export function generateTypes(doc: unknown, specs: readonly TypeSpec[]): string {
  const d = doc as Doc;
  const w = new Writer(d);
  const out: string[] = [];
  const located = specs.map((spec) => ({ spec, schema: locate(d, spec) }));
  const componentNames = new Set(Object.keys(d.components?.schemas ?? {}));
  for (const { spec, schema } of located) {
    const own = typeof schema.$ref === 'string' && schema.$ref === `#/components/schemas/${spec.name}`;
    if (componentNames.has(spec.name) && !own) throw new Error(`type ${spec.name} (${spec.operation}) clashes with the component schema of that name; rename it in the manifest`);
  }
  // Inline responses are named first, so lists and other bodies can refer to their items by name.
  for (const { spec, schema } of located) {
    if (spec.part === 'response' && typeof schema.$ref !== 'string' && !w.known.has(canonical(schema))) w.known.set(canonical(schema), spec.name);
  }
  for (const { spec, schema } of located) {
    const t = w.type(schema, '', spec.name);
    // A response that is a component of the same name is exported with the components.
    if (t === spec.name) continue;
    out.push(`/** ${spec.part === 'body' ? 'Request body' : `Response ${spec.status ?? '200'}`} of \`${spec.operation}\`. */`);
    out.push(`export type ${spec.name} = ${t};`, '');
  }
  // Components referenced so far, and the ones they reference in turn.
  const done = new Set<string>();
  const components: string[] = [];
  for (;;) {
    const next = [...w.components].filter((n) => !done.has(n)).sort();
    if (next.length === 0) break;
    for (const name of next) {
      done.add(name);
      const schema = d.components!.schemas![name]!;
      if (typeof schema.description === 'string' && schema.description) components.push(`/** ${schema.description.replace(/\s+/g, ' ')} */`);
      components.push(`export type ${name} = ${w.type(schema, '', name)};`, '');
    }
  }
  return [
    '/* Generated from the server\u2019s OpenAPI document by `npm run sdk:types`; do not edit. */',
    '',
    ...out,
    ...components,
  ].join('\n');
}
