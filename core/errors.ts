/**
 * Error classes with a stable `code`, an optional `cause`, and context as enumerable fields
 * (so JSON logs show them). Messages are one sentence an operator can act on; `hint` says what
 * to do next. Never put a secret in a message or a field.
 */
export class DeskportError extends Error {
  readonly code: string;
  readonly hint: string | undefined;
  constructor(code: string, message: string, opts: { cause?: unknown; hint?: string; [key: string]: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.code = code;
    const { cause: _cause, hint, ...context } = opts;
    this.hint = hint;
    Object.assign(this, context);
  }
}

/** The operator's configuration is wrong or incomplete; lists every problem at once. */
export class ConfigError extends DeskportError {
  constructor(readonly problems: string[], hint?: string) {
    super('DESKPORT_CONFIG', `Invalid configuration:\n  - ${problems.join('\n  - ')}`, { hint });
  }
}

/** An input file cannot be read or parsed. */
export class InputError extends DeskportError {
  constructor(message: string, opts: { cause?: unknown; hint?: string; path?: string; byteOffset?: number } = {}) {
    super('DESKPORT_INPUT', message, opts);
  }
}

/** The target answered with an HTTP error. Carries status, method and endpoint, never credentials. */
export class TargetHttpError extends DeskportError {
  declare readonly status: number;
  declare readonly endpoint: string;
  declare readonly apiMessage: string;
  declare readonly retryAfterMs: number | undefined;
  constructor(opts: { status: number; method: string; endpoint: string; apiMessage: string; retryAfterMs?: number }) {
    super('DESKPORT_TARGET_HTTP', `Teamwork Desk answered ${opts.status} to ${opts.method} ${opts.endpoint}: ${opts.apiMessage}`, opts);
  }
}

/** A service deskport depends on (Postgres, Kafka, the target) cannot be reached. */
export class ServiceUnavailableError extends DeskportError {
  constructor(service: string, message: string, opts: { cause?: unknown; hint?: string } = {}) {
    super('DESKPORT_SERVICE_UNAVAILABLE', `${service}: ${message}`, { ...opts, service });
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * `run`, `demo` or `delta` found blocking preflight problems and wrote nothing to the target
 * (issue 16.8). Exit code 2, like `check` finding them; the run is recorded as `refused`.
 */
export class PreflightRefusedError extends DeskportError {
  readonly exitCode = 2;
  constructor(command: string, readonly problems: string[], hint: string) {
    super('DESKPORT_PREFLIGHT_BLOCKED', `${command} refused: ${problems.length} blocking problem${problems.length === 1 ? '' : 's'} (the same as npx deskport check lists); nothing was written to the target:\n${problems.map((p) => `  ✗ ${p}`).join('\n')}`, { hint });
  }
}
