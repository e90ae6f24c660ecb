import { Type, type Static, type TSchema } from '@sinclair/typebox';
import type { FastifyBaseLogger, FastifyInstance, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerDefault } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';

/** The Fastify instance with TypeBox schemas as request types. */
export type App = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, FastifyBaseLogger, TypeBoxTypeProvider>;

/** Every object in a request refuses fields it does not know. */
export const Obj = <T extends Record<string, TSchema>>(props: T, description?: string) =>
  Type.Object(props, { additionalProperties: false, ...(description ? { description } : {}) });

export const ErrorBody = Type.Object(
  { error: Type.Object({ code: Type.String({ description: 'stable snake_case code' }), message: Type.String({ description: 'for people' }) }) },
  { $id: 'Error', description: 'Every 4xx/5xx answer' },
);
export type ErrorBody = Static<typeof ErrorBody>;

export const errorRef = Type.Ref('Error');

/** Response map entries for the error statuses a route can give. */
export function errors(...statuses: number[]): Record<number, TSchema> {
  return Object.fromEntries(statuses.map((s) => [s, errorRef]));
}

export const Email = Type.String({ maxLength: 320, description: 'trimmed; unique regardless of case' });
export const Password = Type.String({ maxLength: 1024 });
export const NewPassword = Type.String({ maxLength: 1024, description: '8–256 characters, not one of the most common passwords' });

export const Credentials = Obj({ email: Email, password: Password });
export const NewAccount = Obj({ email: Email, password: NewPassword });

export const Method = Type.Union([Type.Literal('totp'), Type.Literal('webauthn'), Type.Literal('recovery_code')]);

export const UserRef = Type.Object({ id: Type.String(), email: Type.String() });

export const LoginAnswer = Type.Union([
  Type.Object({ status: Type.Literal('ok') }),
  Type.Object({ status: Type.Literal('two_factor_required'), methods: Type.Array(Method) }),
]);

export const Me = Type.Object({
  id: Type.String(),
  email: Type.String(),
  emailVerified: Type.Boolean({ description: 'the address was confirmed with a link (SPEC §7)' }),
  twoFactor: Type.Object({
    enabled: Type.Boolean(),
    methods: Type.Array(Method),
    recoveryCodesRemaining: Type.Integer(),
  }),
  groups: Type.Array(Type.String(), { description: 'the groups the account is in, sorted; access rules name them as group:<name>' }),
});

export const SecurityEvent = Type.Object({
  type: Type.String(),
  at: Type.String({ format: 'date-time' }),
  ip: Type.Union([Type.String(), Type.Null()]),
  userAgent: Type.Union([Type.String(), Type.Null()]),
  detail: Type.Union([Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean()])), Type.Null()]),
});

export const SecurityLogQuery = Obj({
  limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,3}$', description: '1–100, default 50' })),
  before: Type.Optional(Type.String({ maxLength: 40, description: 'an `at` from the previous page (ISO 8601) or epoch milliseconds' })),
});
