/**
 * Request validators compiled once per process. Fastify gives every app it builds an Ajv of its
 * own, which compiles each route's schemas again; a process that builds many apps with the same
 * routes (the test suite starts hundreds of servers) would spend most of each start there. Every
 * app's Ajv here returns the validator already compiled for an identical schema: same schema,
 * same options (those of buildApp), same validator, so nothing a request meets changes. A schema
 * with an `$id` is left to the app's own Ajv, where other schemas may refer to it. Each validator
 * is compiled when first used (`compileOnFirstUse`).
 */

/** The part of Ajv this needs; typed loosely, as Fastify's Ajv may be another copy of the package. */
interface Compiles {
  compile(schema: unknown, meta?: boolean): unknown;
}

const compiled = new Map<string, unknown>();

/** Makes `ajv.compile` reuse validators compiled for identical schemas by any app of this process. */
export function shareCompiledValidators(ajv: Compiles): void {
  const compile = ajv.compile.bind(ajv);
  ajv.compile = (schema: unknown, meta?: boolean): unknown => {
    const key = `${meta === true}\n${JSON.stringify(schema)}`;
    if (key.includes('"$id"')) return compile(schema, meta);
    let validate = compiled.get(key);
    if (validate === undefined) {
      validate = compileOnFirstUse(() => compile(schema, meta));
      compiled.set(key, validate);
    }
    return validate;
  };
}

type Validate = ((data: unknown) => unknown) & { errors?: unknown };

/**
 * A validator compiled on its first call, so a start compiles no route's schemas and a process
 * pays only for the routes it serves. Fastify reads `errors` from the function it was given
 * after a failed validation; it is copied from the compiled validator after each call.
 */
function compileOnFirstUse(compile: () => unknown): Validate {
  let real: Validate | null = null;
  const validate: Validate = (data) => {
    real ??= compile() as Validate;
    const valid = real(data);
    validate.errors = real.errors;
    return valid;
  };
  return validate;
}
