/** Schedules: five-field cron expressions with their ranges and names, or @hourly and friends. */
import { describe, expect, it } from 'vitest';
import { checkProject } from '../src/check/check.js';

function scheduleDiagnostics(schedule: string) {
  const text = `source wh : postgres { database "acme" }
model users { from wh  table analytics.users  columns { email string } }
destination crm : hubspot { token env("HUBSPOT_TOKEN") }
sync s { from users  to crm object contacts  mode upsert  identifier email -> email  schedule ${JSON.stringify(schedule)} }
`;
  return checkProject([{ path: 's.sync', text }]).diagnostics;
}

describe('schedules that are accepted', () => {
  it.each([
    '0 * * * *',
    '*/15 9-17 * * MON-FRI',
    '0 0 1 JAN,jul *',
    '0 0 * * 7',
    '0 0 * * 0',
    '5,10,15 * * * *',
    '59 23 31 12 6',
    '0-30/10 */2 1-15 */3 *',
    '0 0 * * FRI-7',
    '0 10-10 * * *',
    '  0 6 * * *  ',
    '@hourly',
    '@daily',
    '@midnight',
    '@weekly',
    '@monthly',
    '@yearly',
    '@annually',
  ])('%j', (schedule) => {
    expect(scheduleDiagnostics(schedule)).toEqual([]);
  });
});

describe('schedules that are refused, and why', () => {
  it.each([
    ['60 * * * *', 'minute 60 is out of range 0-59'],
    ['* 24 * * *', 'hour 24 is out of range 0-23'],
    ['* * 0 * *', 'day of month 0 is out of range 1-31'],
    ['* * 32 * *', 'day of month 32 is out of range 1-31'],
    ['* * * 13 *', 'month 13 is out of range 1-12'],
    ['* * * * 8', 'day of week 8 is out of range 0-7'],
    ['*/0 * * * *', 'the step in `*/0` must be 1 or more'],
    ['* * * * MON-FRY', '`FRY` is not a valid day of week (0-7 or SUN-SAT)'],
    ['* * MON * *', '`MON` is not a valid day of month'],
    ['* * * * MON#2', '`MON#2` is not a valid day of week'],
    ['* * L * *', '`L` is not a valid day of month'],
    ['? * * * *', '`?` is not a valid minute'],
    ['1,,2 * * * *', '`` is not a valid minute'],
    ['0 * * *', 'a cron expression has 5 fields, this has 4'],
    ['0 0 * * * 2024', 'a cron expression has 5 fields, this has 6'],
    ['', 'a cron expression has 5 fields, this has 0'],
    ['every hour', 'a cron expression has 5 fields, this has 2'],
    ['@every 5m', '`@every 5m` is not one of @hourly, @daily, @weekly, @monthly, @yearly'],
    // Backwards: POSIX cron refuses it, and the schedulers that take it disagree (wrap around, swap the ends, or never run).
    ['30-10 * * * *', 'the range `30-10` runs backwards: write it from the lower end, or as two ranges'],
    ['0 22-2 * * *', 'the range `22-2` runs backwards: write it from the lower end, or as two ranges'],
    ['0 0 * * SAT-SUN', 'the range `SAT-SUN` runs backwards: write it from the lower end, or as two ranges'],
    ['0 0 * DEC-FEB/2 *', 'the range `DEC-FEB` runs backwards: write it from the lower end, or as two ranges'],
  ])('%j: %s', (schedule, why) => {
    const ds = scheduleDiagnostics(schedule);
    expect(ds.map((d) => [d.code, d.hints[0]])).toEqual([['SW0214', why]]);
  });
});

describe('schedules that name no date, and never run', () => {
  it.each([
    ['0 0 31 2 *', 'no day 31 in February: it would never run'],
    ['0 0 30 2 *', 'no day 30 in February: it would never run'],
    ['0 0 30,31 FEB *', 'no day 30, 31 in February: it would never run'],
    ['0 0 31 4,6,9,11 *', 'no day 31 in April, June, September or November: it would never run'],
    ['0 0 31 2-4/2 *', 'no day 31 in February or April: it would never run'],
  ])('%j: %s', (schedule, why) => {
    const ds = scheduleDiagnostics(schedule);
    expect(ds.map((d) => [d.code, d.severity, d.message, d.hints[0]])).toEqual([['SW0216', 'error', `schedule \`${schedule}\` never runs`, why]]);
  });

  // A date some year has (29 February), and a day of the week beside the day of the month (cron runs on either). A
  // step over the days of the week is such a day too: Airflow's croniter expands `*/2` to 0,2,4,6 and runs on either field.
  it.each(['0 0 29 2 *', '0 0 31 1-2 *', '0 0 31 2 MON', '0 0 31 2 1-5', '0 0 28-31 2 *', '0 0 */10 2 *', '0 0 31 2 */2'])('%j runs', (schedule) => {
    expect(scheduleDiagnostics(schedule)).toEqual([]);
  });
});
