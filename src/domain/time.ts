// Timestamps as the API accepts them: RFC 3339 date-times, strictly. One parser, so a value that passes
// validation can never become an invalid date later (e.g. an offset of +99:99).

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|([+-])(\d{2}):(\d{2}))$/;

const daysIn = (year: number, month: number) =>
  month === 2 ? (year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31;

/**
 * `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`: a real calendar date, hours 00–23, minutes and seconds 00–59 (a
 * leap second, :60, is refused: JavaScript dates cannot hold it), an offset within ±14:00. Returns the instant,
 * or null for anything else.
 */
export function parseRfc3339(s: string): Date | null {
  const m = RFC3339.exec(s);
  if (!m) return null;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number);
  if (month < 1 || month > 12 || day < 1 || day > daysIn(year, month)) return null;
  if (hour > 23 || minute > 59 || second > 59) return null;
  if (m[9]) {
    const oh = Number(m[10]);
    const om = Number(m[11]);
    if (om > 59 || oh > 14 || (oh === 14 && om > 0)) return null;
  }
  const d = new Date(s);
  return Number.isNaN(d.getTime()) ? null : d;
}

export const RFC3339_MESSAGE = 'must be an RFC 3339 date-time, e.g. 2026-11-24T10:00:00Z (offset within ±14:00)';
