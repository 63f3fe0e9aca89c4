/**
 * Response serializers compiled once per process. Fastify builds every route's serializers again
 * for each app; a process that builds many apps with the same routes (the test suite starts
 * hundreds of servers) would spend a good part of each start there. This is Fastify's own default
 * serializer compiler, reached through Fastify, returning the serializer already built for an
 * identical schema and identical options: the same output for every response.
 */
import { createRequire } from 'node:module';

interface RouteSchema {
  schema?: unknown;
}
type Serialize = (data: unknown) => string;
type Compile = (route: RouteSchema) => Serialize;
type BuildSerializer = (externalSchemas: unknown, options: unknown) => Compile;

// The compiler Fastify uses when given none (fastify/lib/schema-controller.js), resolved from Fastify's own folder.
const fromFastify = createRequire(createRequire(import.meta.url).resolve('fastify'));
const buildDefault = (fromFastify('@fastify/fast-json-stringify-compiler') as { SerializerSelector: () => BuildSerializer }).SerializerSelector();

const built = new Map<string, Serialize>();

/** A `schemaController.compilersFactory.buildSerializer` that shares serializers between apps. */
export const buildSharedSerializer: BuildSerializer = (externalSchemas, options) => {
  const compile = buildDefault(externalSchemas, options);
  const context = JSON.stringify([externalSchemas, options ?? null]);
  return (route) => {
    const key = `${context}\n${JSON.stringify(route.schema)}`;
    let serialize = built.get(key);
    if (serialize === undefined) {
      // Built on first use: a start builds no route's serializer, and a process pays only for the routes it answers.
      let real: Serialize | null = null;
      serialize = (data) => (real ??= compile(route))(data);
      built.set(key, serialize);
    }
    return serialize;
  };
};
