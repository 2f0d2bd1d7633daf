import { pino, type Logger } from 'pino';

export type { Logger };

/** Paths whose values are secrets; pino replaces them wherever they appear in a log record. */
const SECRET_PATHS = [
  'apiKey', '*.apiKey', '*.*.apiKey', 'token', '*.token', '*.*.token', 'password', '*.password',
  'authorization', '*.authorization', 'headers.authorization', '*.headers.authorization',
];

/** Structured JSON logs on stderr (stdout stays for reports and progress). */
export function createLogger(opts: { level?: string; name?: string } = {}): Logger {
  return pino(
    { name: opts.name ?? 'deskport', level: opts.level ?? 'info', redact: { paths: SECRET_PATHS, censor: '[secret]' } },
    pino.destination(2),
  );
}
