import { z } from 'zod';

/**
 * Every date form Zendesk has documented, normalised to UTC ISO 8601 (`2015-04-16T09:14:57Z`,
 * milliseconds only when the source had them):
 *
 * - ISO 8601 / RFC 3339, with `Z` or an offset (`+10:00`, `-0700`, `+10`), a `T` or a space
 *   between date and time, optional seconds and fractions. Without a zone it is UTC, as the
 *   API's data-types page says of every time stamp ("Time stamps use UTC time").
 * - The older docs' export form `2011/09/25 22:35:44 -0700`.
 * - Unix time in seconds, as a number or a string of digits ("Some endpoints use Unix time").
 *
 * Anything else is not guessed at: `normalizeZendeskDate` answers null and the schema rejects the
 * record with the value in the reason.
 */

const ISO = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?\s*(Z|z|UTC|[+-]\d{2}(?::?\d{2})?)?$/;
const SLASHED = /^(\d{4})\/(\d{2})\/(\d{2}) (\d{2}):(\d{2})(?::(\d{2}))?\s*(Z|UTC|[+-]\d{2}(?::?\d{2})?)?$/;
const UNIX = /^\d{1,11}$/;
/** Unix seconds Zendesk can mean: 1970 … 9999. */
const MAX_UNIX = 253_402_300_799;

function offsetMinutes(zone: string | undefined): number | null {
  if (!zone || zone === 'Z' || zone === 'z' || zone === 'UTC') return 0;
  const m = /^([+-])(\d{2}):?(\d{2})?$/.exec(zone);
  if (!m) return null;
  const hours = Number(m[2]);
  const minutes = Number(m[3] ?? 0);
  if (hours > 14 || minutes > 59) return null;
  return (m[1] === '-' ? -1 : 1) * (hours * 60 + minutes);
}

function iso(ms: number): string {
  const s = new Date(ms).toISOString();
  return s.endsWith('.000Z') ? `${s.slice(0, -5)}Z` : s;
}

function fromParts(p: { y: string; mo: string; d: string; h: string; mi: string; s?: string; frac?: string; zone?: string }): string | null {
  const [y, mo, d, h, mi, s] = [p.y, p.mo, p.d, p.h, p.mi, p.s ?? '0'].map(Number) as [number, number, number, number, number, number];
  const offset = offsetMinutes(p.zone);
  if (offset === null || mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 59) return null;
  const local = Date.UTC(y, mo - 1, d, h, mi, s, p.frac ? Math.floor(Number(`0.${p.frac}`) * 1000) : 0);
  // Date.UTC rolls 31 February over to March: a day the month does not have is not a date.
  if (new Date(local).getUTCDate() !== d) return null;
  return iso(local - offset * 60_000);
}

/** The UTC ISO 8601 form of a Zendesk date, or null when it is none of the documented forms. */
export function normalizeZendeskDate(value: unknown): string | null {
  if (typeof value === 'number') {
    return Number.isInteger(value) && value >= 0 && value <= MAX_UNIX ? iso(value * 1000) : null;
  }
  if (typeof value !== 'string') return null;
  const v = value.trim();
  if (UNIX.test(v)) return normalizeZendeskDate(Number(v));
  let m = ISO.exec(v);
  if (m) return fromParts({ y: m[1]!, mo: m[2]!, d: m[3]!, h: m[4]!, mi: m[5]!, s: m[6], frac: m[7], zone: m[8] });
  m = SLASHED.exec(v);
  if (m) return fromParts({ y: m[1]!, mo: m[2]!, d: m[3]!, h: m[4]!, mi: m[5]!, s: m[6], zone: m[7] });
  return null;
}

/** A Zendesk date field: accepted in every documented form, staged as UTC ISO 8601. */
export const zdDate = z.unknown().transform((value, ctx) => {
  if (value === undefined) {
    ctx.addIssue({ code: 'custom', message: 'required (a date)' });
    return z.NEVER;
  }
  const out = normalizeZendeskDate(value);
  if (out === null) {
    ctx.addIssue({
      code: 'custom',
      message: `${JSON.stringify(value)} is not a date (accepted: ISO 8601 such as 2015-04-16T09:14:57Z, the older 2011/09/25 22:35:44 -0700, or Unix seconds)`,
    });
    return z.NEVER;
  }
  return out;
});
