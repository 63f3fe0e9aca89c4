/**
 * The type of route modules: Fastify plugins whose request types (params, query string,
 * body) and reply types are derived from the JSON schemas their routes declare, so a
 * handler cannot read a field its schema does not have or answer a shape its schema does
 * not document.
 */
import type { FastifyPluginAsyncJsonSchemaToTs } from '@fastify/type-provider-json-schema-to-ts';

/**
 * The `noContent` response schema of 204 answers documents an empty body (`type: null`);
 * its reply type is `undefined`, so those routes answer with `reply.code(204).send()`.
 */
type NoContentIsEmpty = { pattern: { type: 'null'; description: 'No content' }; output: undefined };

export type RoutePlugin = FastifyPluginAsyncJsonSchemaToTs<{ SerializerSchemaOptions: { deserialize: [NoContentIsEmpty] } }>;
