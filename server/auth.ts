import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import { AppError } from '../app/index.js';
import type { Viewer } from '../config/rules.js';

/**
 * Bearer tokens: HS256 JWTs signed with AUTH_SECRET, verified with `jose`.
 * Claims: `sub` (the user id, required), `role` (optional), `exp` (required: a token that
 * never expires could never be withdrawn). HTTP and SSE send `Authorization: Bearer <token>`;
 * graphql-ws sends it as `connectionParams.authorization` (with or without `Bearer `).
 */

/** Why a token was refused, for the error message and the log. */
class AuthError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AuthError';
  }
}

/** Who a token speaks for, and until when (epoch milliseconds: the token's `exp`). */
export interface Session {
  readonly viewer: Viewer;
  readonly expiresAt: number;
}

export class Authenticator {
  readonly #key: Uint8Array;

  constructor(secret: string) {
    if (secret.length < 32) throw new Error('AUTH_SECRET must be at least 32 characters (HS256 wants a 256-bit key)');
    this.#key = new TextEncoder().encode(secret);
  }

  /** The session of an `Authorization` header or connection parameter; throws `AuthError`. */
  async session(authorization: unknown): Promise<Session> {
    if (authorization === undefined || authorization === null || authorization === '')
      throw new AuthError('missing bearer token');
    if (typeof authorization !== 'string') throw new AuthError('authorization must be a string');
    const match = /^(?:Bearer\s+)?([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/i.exec(authorization.trim());
    if (match === null) throw new AuthError('malformed bearer token');
    try {
      const { payload } = await jwtVerify(match[1] as string, this.#key, {
        algorithms: ['HS256'],
        requiredClaims: ['sub', 'exp'],
      });
      const { sub, role, exp } = payload;
      if (typeof sub !== 'string' || sub.length === 0) throw new AuthError('the token has no sub');
      if (role !== undefined && role !== null && typeof role !== 'string')
        throw new AuthError('the token role is not a string');
      return { viewer: { sub, role: typeof role === 'string' ? role : null }, expiresAt: (exp as number) * 1000 };
    } catch (error) {
      if (error instanceof AuthError) throw error;
      if (error instanceof joseErrors.JWTExpired) throw new AuthError('the token has expired');
      if (error instanceof joseErrors.JWSSignatureVerificationFailed) throw new AuthError('invalid token signature');
      if (error instanceof joseErrors.JWTClaimValidationFailed) throw new AuthError(`invalid token: ${error.message}`);
      throw new AuthError('malformed bearer token');
    }
  }
}

/** Mints a token (for `npm run token` and tests). `expiresIn`: seconds, or a jose span such as '1h'. */
export async function mintToken(
  secret: string,
  claims: { sub: string; role?: string | null },
  expiresIn: number | string = '1h',
): Promise<string> {
  const jwt = new SignJWT(claims.role == null ? {} : { role: claims.role })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(claims.sub)
    .setIssuedAt();
  if (typeof expiresIn === 'number') jwt.setExpirationTime(Math.floor(Date.now() / 1000) + expiresIn);
  else jwt.setExpirationTime(expiresIn);
  return jwt.sign(new TextEncoder().encode(secret));
}

/** The refusal of a request whose token was refused: `UNAUTHENTICATED` (HTTP 401 over HTTP). */
export function unauthenticated(error: unknown): AppError {
  const reason = error instanceof AuthError ? error.message : 'invalid bearer token';
  return new AppError('UNAUTHENTICATED', `unauthenticated: ${reason}`);
}

/** The refusal of an operation on a connection whose token has expired since it was opened. */
export function tokenExpired(): AppError {
  return new AppError('UNAUTHENTICATED', 'unauthenticated: the token has expired');
}
