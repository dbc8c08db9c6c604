// One error type for mistakes a user can fix: printed as `::error::`, exit code 1, no stack.
export class UserError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UserError';
  }
}

/** An HTTP response that was not what we asked for. Retryable when 408, 429 or 5xx. */
export class HttpError extends Error {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  constructor(status: number, message: string, headers: Record<string, string | string[] | undefined> = {}) {
    super(message);
    this.name = 'HttpError';
    this.status = status;
    this.headers = headers;
  }
}

/**
 * Runs fn; a user error from it is rethrown with `where` in front (an input's name, a file and
 * line): the library says what is wrong with a value, its caller says where the value came from.
 */
export function within<T>(where: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof UserError) throw new UserError(`${where}: ${err.message}`, { cause: err.cause });
    throw err;
  }
}

export function isUserError(err: unknown): err is UserError {
  return err instanceof UserError;
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
