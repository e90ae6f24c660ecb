import AjvCompiler, { type ValidatorFactory } from '@fastify/ajv-compiler';
import SerializerSelector, { type SerializerFactory } from '@fastify/fast-json-stringify-compiler';

/*
 * Fastify compiles a validator for every schema part and a serializer for every response schema of
 * every route while it starts: with ajv and fast-json-stringify that was about a sixth of the start's
 * CPU, for routes most of which a process may never serve. These factories are Fastify's own (the
 * same compilers, options and shared schemas); each function they hand back compiles on its first
 * call instead. A route's first request pays its compilation, a few milliseconds once.
 */

type Validate = ReturnType<ReturnType<ValidatorFactory>>;

// One of each per process, as Fastify makes them: they keep one ajv instance (and one serializer
// factory) per set of shared schemas and options, for every plugin context that asks.
const validatorPool = AjvCompiler();
const serializerPool = SerializerSelector();

// The ajv instance itself is made on first use too: making it compiles ajv's meta-schema to check
// the shared schemas against, 70-85 ms of the start (measured). Fastify hands over a snapshot of the
// shared schemas, so compiling them later compiles the same set.
export const lazyValidators: ValidatorFactory = (externalSchemas, options) => {
  let compile: ReturnType<typeof validatorPool> | undefined;
  return (route) => {
    let validate: Validate | undefined;
    // Fastify reads `errors` off the function it was given, after calling it.
    const lazy = ((data: unknown) => {
      validate ??= (compile ??= validatorPool(externalSchemas, options))(route);
      const result = validate(data);
      lazy.errors = validate.errors;
      return result;
    }) as Validate;
    return lazy;
  };
};

export const lazySerializers: SerializerFactory = (externalSchemas, options) => {
  let compile: ReturnType<typeof serializerPool> | undefined;
  return (route) => {
    let serialize: ((doc: unknown) => string) | undefined;
    return (doc: unknown) => (serialize ??= (compile ??= serializerPool(externalSchemas, options))(route))(doc);
  };
};
