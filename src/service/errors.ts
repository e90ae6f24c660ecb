/**
 * A refusal the caller should show to the person: an HTTP status, a stable snake_case code (part of
 * the API contract) and a sentence in plain words.
 */
export class AppError extends Error {
  override name = 'AppError';
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
    /** Which form field the error belongs to, for the pages. */
    readonly field?: string,
  ) {
    super(message);
  }
}

export const unauthenticated = () => new AppError(401, 'unauthenticated', 'You are not signed in.');
export const invalidCredentials = () => new AppError(401, 'invalid_credentials', 'The email or password is not right.', {}, 'password');
export const reauthenticationRequired = () =>
  new AppError(403, 'reauthentication_required', 'For your security, confirm it is you before making this change.');
export const notFound = (what = 'That') => new AppError(404, 'not_found', `${what} was not found.`);
