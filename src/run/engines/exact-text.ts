/**
 * Values as exact text, for a load into another warehouse (warehouse-plan.ts): the drivers'
 * own parsers make a timestamp a Date (milliseconds), a JSON number a double, a BC date an
 * Invalid Date, and a load that binds those changes the data. Read as text, each value is what
 * the source holds, in a form the destination's casts (the load table's declared types) read
 * back unchanged: Postgres's own output, booleans as `true`/`false`, instants in UTC as
 * `+00:00`, Snowflake's and BigQuery's epoch numbers written out to their last digit.
 */

const boolOid = 16;
const timestamptzOid = 1184;

/**
 * A Postgres value's text (ISO DateStyle, the server default) as the load binds it. A
 * timestamptz is written in UTC (`+00:00`), as the executor works (run/index.ts): the load table
 * holds a timestamp without zone, and a value in the source session's zone would carry that
 * zone's wall time into the destination.
 */
export function pgText(oid: number, text: string): string {
  if (oid === boolOid) return text === 't' ? 'true' : text === 'f' ? 'false' : text;
  if (oid === timestamptzOid) return utcOfPg(text);
  return text;
}

/** `2024-01-01 15:30:00.123456+05:30` (an offset of hours, minutes and seconds, ` BC` last) in UTC; other text (infinity) as it is. */
function utcOfPg(text: string): string {
  const m = /^(\d{4,})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)(?:\.(\d+))?([+-])(\d\d)(?::(\d\d))?(?::(\d\d))?( BC)?$/.exec(text);
  if (!m) return text;
  const [, y, mo, d, h, mi, s, fraction = '', sign, oh, om = '0', os = '0', bc] = m;
  const year = bc ? 1n - BigInt(y as string) : BigInt(y as string);
  const offset = (sign === '-' ? -1n : 1n) * (BigInt(oh as string) * 3600n + BigInt(om) * 60n + BigInt(os));
  const seconds = daysOf(year, Number(mo), Number(d)) * 86_400n + BigInt(h as string) * 3600n + BigInt(mi as string) * 60n + BigInt(s as string) - offset;
  const scale = 10n ** BigInt(fraction.length);
  return timestampOf(seconds * scale + BigInt(fraction || '0'), fraction.length, 0);
}

const pad = (n: number | bigint, width: number) => String(n).padStart(width, '0');

/** Floor division of bigints (a negative epoch value counts back from 1970). */
const floorDiv = (a: bigint, b: bigint) => (a % b === 0n || a >= 0n ? a / b : a / b - 1n);

/**
 * The proleptic Gregorian date `days` after 1970-01-01, in Postgres's form: `YYYY-MM-DD`, more
 * digits past 9999, ` BC` (year 0 is 1 BC) before year 1. (H. Hinnant's civil_from_days.)
 */
function civil(days: bigint): { date: string; bc: boolean } {
  const z = days + 719_468n;
  const era = floorDiv(z, 146_097n);
  const doe = z - era * 146_097n;
  const yoe = (doe - doe / 1460n + doe / 36_524n - doe / 146_096n) / 365n;
  const doy = doe - (365n * yoe + yoe / 4n - yoe / 100n);
  const mp = (5n * doy + 2n) / 153n;
  const day = doy - (153n * mp + 2n) / 5n + 1n;
  const month = mp < 10n ? mp + 3n : mp - 9n;
  const year = yoe + era * 400n + (month <= 2n ? 1n : 0n);
  const bc = year <= 0n;
  return { date: `${pad(bc ? 1n - year : year, 4)}-${pad(month, 2)}-${pad(day, 2)}`, bc };
}

/** Days from 1970-01-01 to a proleptic Gregorian date (year 0 is 1 BC): the inverse of `civil`. */
function daysOf(year: bigint, month: number, day: number): bigint {
  const y = month <= 2 ? year - 1n : year;
  const era = floorDiv(y, 400n);
  const yoe = y - era * 400n;
  const doy = BigInt(Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1);
  const doe = yoe * 365n + yoe / 4n - yoe / 100n + doy;
  return era * 146_097n + doe - 719_468n;
}

/** A date given as days since 1970-01-01 (Snowflake's DATE in the SQL API's JSON). */
export function dateOfDays(days: string): string {
  const { date, bc } = civil(BigInt(days));
  return bc ? `${date} BC` : date;
}

/**
 * A timestamp given as seconds since 1970-01-01 UTC in decimal (`1704103200.123456789`, `-1.5`:
 * Snowflake's), its fraction kept to its last non-zero digit; with `offset` (minutes east of
 * UTC) the wall time there, followed by the offset as `+HH:MM`.
 */
export function timestampOfSeconds(seconds: string, offset?: number): string {
  const m = /^(-?)(\d+)(?:\.(\d*))?$/.exec(seconds.trim());
  if (!m) throw new Error(`not a number of seconds: ${seconds}`);
  const digits = m[3] ?? '';
  return timestampOf(BigInt(`${m[1]}${m[2]}${digits}`), digits.length, offset);
}

/** A timestamp given as microseconds since 1970-01-01 UTC (BigQuery's TIMESTAMP), as an instant in UTC. */
export const timestampOfMicros = (micros: string): string => timestampOf(BigInt(micros), 6, 0);

/** `units` of 10^-`digits` seconds since 1970-01-01 UTC, as `timestampOfSeconds` writes it. */
function timestampOf(units: bigint, digits: number, offset: number | undefined): string {
  const scale = 10n ** BigInt(digits);
  const local = units + BigInt((offset ?? 0) * 60) * scale;
  const whole = floorDiv(local, scale);
  const fraction = pad(local - whole * scale, digits).replace(/0+$/, '');
  const days = floorDiv(whole, 86_400n);
  const s = whole - days * 86_400n;
  const { date, bc } = civil(days);
  const time = `${pad(s / 3600n, 2)}:${pad((s / 60n) % 60n, 2)}:${pad(s % 60n, 2)}${fraction ? `.${fraction}` : ''}`;
  return `${date} ${time}${offset === undefined ? '' : offsetText(offset)}${bc ? ' BC' : ''}`;
}

/** An offset from UTC in minutes as `+HH:MM`. */
function offsetText(minutes: number): string {
  const a = Math.abs(minutes);
  return `${minutes < 0 ? '-' : '+'}${pad(Math.floor(a / 60), 2)}:${pad(a % 60, 2)}`;
}
