/**
 * Text Postgres cannot store in jsonb: NUL (\u0000) and lone UTF-16 surrogates (an emoji cut in
 * half by a source system). JSON.stringify writes both as `\uXXXX` escapes (paired surrogates are
 * written raw), so they are found in the serialized envelope: NUL is dropped and a lone surrogate
 * becomes U+FFFD. A pair written as two escapes (an emoji in an ASCII-only export) is kept. The
 * count is reported so the change is never silent. Cheap when absent.
 */
const BAD_ESCAPE = /(?<!\\)((?:\\\\)*)\\u(0000|d[89ab][0-9a-f]{2}(?!\\ud[c-f][0-9a-f]{2})|(?<!\\ud[89ab][0-9a-f]{2}\\u)d[c-f][0-9a-f]{2})/gi;

export function sanitizeJson(json: string): { json: string; fixed: number } {
  if (!json.includes('\\u')) return { json, fixed: 0 };
  let fixed = 0;
  const out = json.replace(BAD_ESCAPE, (_m, slashes: string, code: string) => {
    fixed++;
    return code === '0000' ? slashes : `${slashes}\\ufffd`;
  });
  return { json: out, fixed };
}

/** The same for JSON as UTF-8 bytes: the bytes themselves (no copy) when nothing needed repair. */
export function sanitizeJsonBytes(bytes: Buffer): { bytes: Buffer; fixed: number } {
  if (!bytes.includes('\\u')) return { bytes, fixed: 0 };
  const { json, fixed } = sanitizeJson(bytes.toString('utf8'));
  return { bytes: fixed > 0 ? Buffer.from(json) : bytes, fixed };
}
