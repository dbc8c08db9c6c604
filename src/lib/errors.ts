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
 * A value given for one of a function's options is wrong. `option` is the library's own name for
 * it (e.g. `destination`, `accessKeySecret`); the message describes the value and the rule. The
 * caller knows where the value came from and says so with `within`.
 */
export class OptionError extends UserError {
  readonly option: string;
  constructor(option: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'OptionError';
    this.option = option;
  }
}

/** Runs fn; a user error from it becomes an OptionError naming `option` (a check of one option's value). */
export function asOption<T>(option: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof UserError && !(err instanceof OptionError)) throw new OptionError(option, err.message, { cause: err.cause });
    throw err;
  }
}

/** Where values came from: one place for all, or one per option name (see OptionError). */
export type Where = string | Readonly<Record<string, string>>;

function placed(where: Where, err: unknown): unknown {
  if (!(err instanceof UserError)) return err;
  const at = typeof where === 'string' ? where : err instanceof OptionError ? where[err.option] : undefined;
  if (!at) return err;
  return new UserError(`${at}: ${err.message}`, { cause: err.cause });
}

/**
 * Runs fn (sync or async); a user error from it is rethrown with where the value came from in
 * front (an input's name, a file and line): the library says what is wrong with a value, its
 * caller says where the value came from. With a map, an OptionError is placed by its option;
 * other errors pass unchanged.
 */
export function within<T>(where: Where, fn: () => T): T {
  let out: T;
  try {
    out = fn();
  } catch (err) {
    throw placed(where, err);
  }
  if (out instanceof Promise) {
    return out.catch((err: unknown) => {
      throw placed(where, err);
    }) as T;
  }
  return out;
}

export function isUserError(err: unknown): err is UserError {
  return err instanceof UserError;
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
