// Registry failures that callers act on: not found (a missing source), auth (wrong or missing
// credentials; never retried), and protocol errors with the registry's own error codes.
import { HttpError, UserError } from '../errors.js';

export class NotFoundError extends UserError {
  constructor(
    readonly what: string,
    readonly code?: string,
  ) {
    super(`${what} was not found${code ? ` (${code})` : ''}`);
    this.name = 'NotFoundError';
  }
}

export class AuthError extends UserError {
  constructor(message: string) {
    super(message);
    this.name = 'AuthError';
  }
}

export interface RegistryErrorBody {
  errors?: { code?: string; message?: string; detail?: unknown }[];
}

/** `CODE: message` from a registry's JSON error body, or a short text excerpt. */
export function describeErrorBody(body: Buffer): string {
  const text = body.toString('utf8');
  try {
    const j = JSON.parse(text) as RegistryErrorBody;
    if (j.errors?.length) return j.errors.map((e) => `${e.code ?? 'ERROR'}: ${e.message ?? ''}`.trim()).join('; ');
  } catch {
    // not JSON
  }
  return text.replace(/\s+/g, ' ').trim().slice(0, 200);
}

export function registryCodes(body: Buffer): string[] {
  try {
    return ((JSON.parse(body.toString('utf8')) as RegistryErrorBody).errors ?? []).map((e) => e.code ?? '');
  } catch {
    return [];
  }
}

export { HttpError };
