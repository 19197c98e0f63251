/**
 * The instant a `timestamp` literal names. Its text is a day (`YYYY-MM-DD`), optionally a time
 * (`T` or a space, then `HH:MM`, `:SS` and a fraction of up to 9 digits) and a zone (`Z`, or an
 * offset `+HH`, `+HHMM` or `+HH:MM`), as src/check/expr.ts accepts it. A timestamp is UTC, as the
 * project's payloads are: a literal without a zone is its wall clock at UTC, whatever the session
 * running the SQL; one with an offset is that wall clock there.
 */

const shape = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?(?:Z|([+-])(\d{2})(?::?(\d{2}))?)?$/;

/** The offsets in use run from -12:00 to +14:00; one past 14 hours, or of 60 minutes or more, is a slip. */
export const maxOffsetMinutes = 14 * 60;

const pad = (n: number, width: number) => String(n).padStart(width, '0');

/**
 * The literal's instant as its wall clock at UTC, `YYYY-MM-DD HH:MM:SS` and the fraction as
 * written: the text every warehouse reads alike, in a column with a zone or without. Undefined
 * when the text is not a timestamp (a day or a time of day that does not exist, an offset past
 * 14 hours or of 60 minutes or more) or its day at UTC is before 0001-01-01 or after 9999-12-31.
 */
export function timestampAtUtc(text: string): string | undefined {
  const m = shape.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h = '00', mi = '00', s = '00', fraction, sign, oh, om = '00'] = m;
  const [year, month, day, hour, minute, second] = [y, mo, d, h, mi, s].map(Number) as [number, number, number, number, number, number];
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  const offset = sign === undefined ? 0 : (sign === '-' ? -1 : 1) * (Number(oh) * 60 + Number(om));
  if (Number(om) > 59 || Math.abs(offset) > maxOffsetMinutes) return undefined;
  // setUTCFullYear, not Date.UTC, which reads the years 0 to 99 as 1900 to 1999.
  const at = new Date(0);
  at.setUTCFullYear(year, month - 1, day);
  if (at.getUTCFullYear() !== year || at.getUTCMonth() !== month - 1 || at.getUTCDate() !== day) return undefined;
  at.setUTCHours(hour, minute - offset, second);
  const utcYear = at.getUTCFullYear();
  if (utcYear < 1 || utcYear > 9999) return undefined;
  const date = `${pad(utcYear, 4)}-${pad(at.getUTCMonth() + 1, 2)}-${pad(at.getUTCDate(), 2)}`;
  const time = `${pad(at.getUTCHours(), 2)}:${pad(at.getUTCMinutes(), 2)}:${pad(at.getUTCSeconds(), 2)}`;
  return `${date} ${time}${fraction === undefined ? '' : `.${fraction}`}`;
}
