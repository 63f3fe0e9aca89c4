/**
 * JSONata, loaded when an expression is first compiled (a polled source's config being checked
 * or run): a server without polled sources never pays for loading it.
 */
import { createRequire } from 'node:module';
import type jsonata from 'jsonata';

let loaded: typeof jsonata | null = null;

/** `jsonata(text, options)`: compiles an expression; throws on a syntax error. */
export const compileJsonata: typeof jsonata = (...args) => (loaded ??= createRequire(import.meta.url)('jsonata') as typeof jsonata)(...args);
