/**
 * Checks answers against the `svix` SDK's own models. The SDK's model parsers do not
 * validate (a missing field just reads as undefined), so this reads the models' type
 * declarations (node_modules/svix/dist/models/*.d.ts): for each interface its fields, which
 * are required and their types; each enum's values; and the tagged unions (`StreamSinkOut`,
 * `IngestSourceOut`, ...) with their `type` variants. `checkShape` checks one JSON value
 * against a model by name; `watchSdkAnswers` checks every answer the SDK parses while it is
 * on, and makes a call whose answer has a wrong shape throw a `ShapeError` naming the request,
 * the model and the field.
 *
 * Fields the models do not have are allowed (Switchboard's extensions); `any` accepts
 * anything; `Date` must be a string that parses as a date.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

/** A type as the declarations write it. */
type Type =
  | { kind: 'string' | 'number' | 'boolean' | 'date' | 'any' }
  | { kind: 'literal'; value: string }
  | { kind: 'array'; of: Type }
  | { kind: 'record'; of: Type }
  | { kind: 'ref'; name: string }
  | { kind: 'union'; of: Type[] };

interface Field {
  name: string;
  required: boolean;
  type: Type;
}

/** What a model name stands for. */
type Model =
  | { kind: 'interface'; fields: Field[] }
  | { kind: 'enum'; values: (string | number)[] }
  /** `Base & (A | B | ...)`: the base's fields and one variant, chosen by `type`. */
  | { kind: 'tagged'; base: string; variants: string[] };

/** Parses one type expression of a declaration file. */
function parseType(src: string): Type {
  let i = 0;
  const skip = () => {
    while (i < src.length && /\s/.test(src[i]!)) i++;
  };
  const expect = (s: string) => {
    skip();
    if (!src.startsWith(s, i)) throw new Error(`expected '${s}' at ${i} in: ${src}`);
    i += s.length;
  };
  const union = (): Type => {
    const parts = [postfix()];
    for (skip(); src[i] === '|'; skip()) {
      i++;
      parts.push(postfix());
    }
    return parts.length === 1 ? parts[0]! : { kind: 'union', of: parts };
  };
  const postfix = (): Type => {
    let t = primary();
    for (skip(); src.startsWith('[]', i); skip()) {
      i += 2;
      t = { kind: 'array', of: t };
    }
    return t;
  };
  const primary = (): Type => {
    skip();
    if (src[i] === '(') {
      i++;
      const t = union();
      expect(')');
      return t;
    }
    if (src[i] === '"') {
      const end = src.indexOf('"', i + 1);
      const value = src.slice(i + 1, end);
      i = end + 1;
      return { kind: 'literal', value };
    }
    if (src[i] === '{') {
      i++;
      expect('[');
      const key = /^\s*\w+\s*:\s*string\s*\]\s*:/.exec(src.slice(i));
      if (!key) throw new Error(`unsupported object type in: ${src}`);
      i += key[0].length;
      const of = union();
      skip();
      if (src[i] === ';') i++;
      expect('}');
      return { kind: 'record', of };
    }
    const word = /^\w+/.exec(src.slice(i));
    if (!word) throw new Error(`unexpected '${src.slice(i)}' in: ${src}`);
    i += word[0].length;
    switch (word[0]) {
      case 'string':
      case 'number':
      case 'boolean':
      case 'any':
        return { kind: word[0] };
      case 'Date':
        return { kind: 'date' };
      case 'null':
        return { kind: 'literal', value: '\u0000null' };
      default:
        return { kind: 'ref', name: word[0] };
    }
  };
  const t = union();
  skip();
  if (i !== src.length) throw new Error(`trailing '${src.slice(i)}' in: ${src}`);
  return t;
}

const NULL: Type = { kind: 'literal', value: '\u0000null' };
const isNull = (t: Type) => t.kind === 'literal' && t.value === NULL.value;

/** The body of a `{ ... }` block starting at `open` (the index of its brace), braces balanced. */
function block(text: string, open: number): string {
  let depth = 0;
  for (let j = open; j < text.length; j++) {
    if (text[j] === '{') depth++;
    else if (text[j] === '}' && --depth === 0) return text.slice(open + 1, j);
  }
  throw new Error('unbalanced braces');
}

/** Splits an interface body into its `name?: type;` members, at semicolons outside braces. */
function members(body: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let j = 0; j < body.length; j++) {
    if (body[j] === '{') depth++;
    else if (body[j] === '}') depth--;
    else if (body[j] === ';' && depth === 0) {
      out.push(body.slice(start, j).trim());
      start = j + 1;
    }
  }
  if (body.slice(start).trim()) out.push(body.slice(start).trim());
  return out.filter((m) => m.length > 0);
}

/** Reads the models from the SDK's declaration files. */
function loadModels(dir: string): Map<string, Model> {
  const models = new Map<string, Model>();
  const add = (name: string, model: Model, file: string) => {
    if (models.has(name)) throw new Error(`${file}: model ${name} is declared twice`);
    models.set(name, model);
  };
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.d.ts'))) {
    const text = readFileSync(join(dir, file), 'utf8');
    for (const m of text.matchAll(/^(?:export )?interface (\w+) \{/gm)) {
      const fields = members(block(text, m.index + m[0].length - 1)).map((member): Field => {
        const f = /^(\w+)(\??):\s*([\s\S]+)$/.exec(member);
        if (!f) throw new Error(`${file}: cannot read member '${member}' of ${m[1]}`);
        return { name: f[1]!, required: f[2] !== '?', type: parseType(f[3]!) };
      });
      add(m[1]!, { kind: 'interface', fields }, file);
    }
    for (const m of text.matchAll(/^export declare enum (\w+) \{/gm)) {
      const values = [...block(text, m.index + m[0].length - 1).matchAll(/=\s*(?:"([^"]*)"|(-?\d+))/g)].map((v) => v[1] ?? Number(v[2]));
      add(m[1]!, { kind: 'enum', values }, file);
    }
    for (const m of text.matchAll(/^export type (\w+) = (\w+) & \(([^)]+)\);$/gm)) {
      add(m[1]!, { kind: 'tagged', base: m[2]!, variants: m[3]!.split('|').map((v) => v.trim()) }, file);
    }
  }
  return models;
}

const MODELS_DIR = join(dirname(require.resolve('svix')), 'models');
const models = loadModels(MODELS_DIR);

/** The model names the SDK's serializers stand for, by their parse function. */
const parsers = new Map<unknown, string>();
for (const file of readdirSync(MODELS_DIR).filter((f) => f.endsWith('.js'))) {
  const mod = require(join(MODELS_DIR, file)) as Record<string, { _fromJsonObject?: unknown }>;
  for (const [key, value] of Object.entries(mod)) {
    const name = key.replace(/Serializer$/, '');
    if (key.endsWith('Serializer') && typeof value?._fromJsonObject === 'function' && models.has(name)) parsers.set(value._fromJsonObject, name);
  }
}

/** Every model the declarations hold, by name (for tests of this checker). */
export const modelNames = (): string[] => [...models.keys()];

const describe = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'object' ? 'an object' : `${typeof v} ${JSON.stringify(v)}`);
/** The path of a member of `path`. */
const member = (path: string, key: string): string => (path ? `${path}.${key}` : key);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Problems of `value` as a `type`, each `path: problem`. */
function check(type: Type, value: unknown, path: string, out: string[]): void {
  switch (type.kind) {
    case 'any':
      return;
    case 'string':
    case 'number':
    case 'boolean':
      if (typeof value !== type.kind) out.push(`${path}: expected a ${type.kind}, got ${describe(value)}`);
      return;
    case 'date':
      if (typeof value !== 'string' || Number.isNaN(Date.parse(value))) out.push(`${path}: expected a date-time string, got ${describe(value)}`);
      return;
    case 'literal':
      if (isNull(type) ? value !== null : value !== type.value) out.push(`${path}: expected ${isNull(type) ? 'null' : JSON.stringify(type.value)}, got ${describe(value)}`);
      return;
    case 'array':
      if (!Array.isArray(value)) out.push(`${path}: expected an array, got ${describe(value)}`);
      else value.forEach((v, n) => check(type.of, v, `${path}[${n}]`, out));
      return;
    case 'record':
      if (!isObject(value)) out.push(`${path}: expected an object, got ${describe(value)}`);
      else for (const [k, v] of Object.entries(value)) check(type.of, v, member(path, k), out);
      return;
    case 'union': {
      // null is one alternative; otherwise the first alternative whose check passes.
      if (value === null && type.of.some(isNull)) return;
      const others = type.of.filter((t) => !isNull(t));
      const tries = others.map((t) => {
        const problems: string[] = [];
        check(t, value, path, problems);
        return problems;
      });
      if (!tries.some((p) => p.length === 0)) out.push(...(others.length === 1 ? tries[0]! : [`${path}: ${describe(value)} matches none of its types`]));
      return;
    }
    case 'ref':
      checkModel(type.name, value, path, out);
  }
}

function checkModel(name: string, value: unknown, path: string, out: string[]): void {
  const model = models.get(name);
  if (!model) {
    out.push(`${path}: the SDK declares no model ${name}`);
    return;
  }
  if (model.kind === 'enum') {
    if (!model.values.includes(value as string | number)) out.push(`${path}: ${describe(value)} is not a ${name} (${model.values.map((v) => JSON.stringify(v)).join(', ')})`);
    return;
  }
  if (!isObject(value)) {
    out.push(`${path}: expected ${name} (an object), got ${describe(value)}`);
    return;
  }
  if (model.kind === 'tagged') {
    checkModel(model.base, value, path, out);
    const variant = model.variants.find((v) => {
      const m = models.get(v);
      const tag = m?.kind === 'interface' ? m.fields.find((f) => f.name === 'type')?.type : undefined;
      return tag?.kind === 'literal' && tag.value === value.type;
    });
    if (variant) checkModel(variant, value, path, out);
    else out.push(`${member(path, 'type')}: ${describe(value.type)} is none of ${name}'s types`);
    return;
  }
  for (const f of model.fields) {
    const v = value[f.name];
    const at = member(path, f.name);
    if (v === undefined) {
      if (f.required) out.push(`${at}: required field missing`);
      continue;
    }
    check(f.type, v, at, out);
  }
}

/** Problems of a JSON value read as the SDK model `model`: `Model.path: problem`, none when it fits. */
export function checkShape(model: string, value: unknown): string[] {
  const out: string[] = [];
  checkModel(model, value, '', out);
  return out.map((p) => (p.startsWith(':') || p.startsWith('[') ? model + p : `${model}.${p}`));
}

/** An answer that does not fit the SDK's model. */
export class ShapeError extends Error {
  constructor(
    readonly request: string,
    readonly problems: string[],
  ) {
    super(`${request}: the answer does not fit the SDK's model: ${problems.join('; ')}`);
    this.name = 'ShapeError';
  }
}

interface SvixRequestLike {
  method: string;
  path: string;
}
type Send = (this: SvixRequestLike, ctx: unknown, parse: (json: unknown) => unknown) => Promise<unknown>;

const request = require('svix/dist/request.js') as { SvixRequest: { prototype: { send: Send } } };
/** One answer the SDK parsed: the request, the model it was read as, and its problems. */
export interface CheckedAnswer {
  request: string;
  model: string;
  problems: string[];
}

const listeners = new Set<(a: CheckedAnswer) => void>();
let original: Send | undefined;

/**
 * Checks every answer the SDK parses (all clients) until `stop()`: a call whose answer does
 * not fit its model throws a ShapeError. Every checked answer is kept in `checked`, and the
 * ones that do not fit in `violations` too (so one the caller caught is still seen).
 */
export function watchSdkAnswers(): { checked: CheckedAnswer[]; violations: ShapeError[]; stop: () => void } {
  const checked: CheckedAnswer[] = [];
  const violations: ShapeError[] = [];
  const listener = (a: CheckedAnswer) => {
    checked.push(a);
    if (a.problems.length > 0) violations.push(new ShapeError(a.request, a.problems));
  };
  listeners.add(listener);
  if (!original) {
    const send = (original = request.SvixRequest.prototype.send);
    request.SvixRequest.prototype.send = function (this: SvixRequestLike, ctx, parse) {
      const req = `${this.method} ${this.path}`;
      return send.call(this, ctx, (json: unknown) => {
        const model = parsers.get(parse);
        const answer = { request: req, model: model ?? '(unknown)', problems: model === undefined ? ['the SDK read it with a parser of no known model'] : checkShape(model, json) };
        for (const l of listeners) l(answer);
        if (answer.problems.length > 0) throw new ShapeError(req, answer.problems);
        return parse(json);
      });
    };
  }
  return {
    checked,
    violations,
    stop: () => {
      listeners.delete(listener);
      if (listeners.size === 0 && original) {
        request.SvixRequest.prototype.send = original;
        original = undefined;
      }
    },
  };
}
