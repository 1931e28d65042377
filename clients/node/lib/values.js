// Column values: one sluice.v1.Value (as proto-loader decodes it) to the plain JS value of the
// canonical JSON rendering in docs/event-format.md §3, so that a row reads the way
// `sluicectl tail --format json` prints it. Pure functions; they never throw on any input.
//
// Where JavaScript cannot hold the JSON exactly, the value is a string instead:
//   - int64 / uint64: a number when it is a safe integer (|v| <= 2^53 - 1), otherwise the exact
//     decimal digits as a string ("18446744073709551615");
//   - double NaN and the infinities: "NaN", "Infinity", "-Infinity" (as in the JSON);
//   - json: the parsed value (JSON.parse); text that is not valid JSON stays a string.
'use strict';

const MICROS_PER_SECOND = 1000000n;
const MICROS_PER_DAY = 86400n * MICROS_PER_SECOND;
const INT64_MAX = 9223372036854775807n;
const INT64_MIN = -9223372036854775808n;

function pad(n, width) {
  return String(n).padStart(width, '0');
}

// ".5", ".12", ".000001"; "" for 0 (trailing zeros removed).
function fraction(micros) {
  if (!micros) return '';
  return '.' + pad(micros, 6).replace(/0+$/, '');
}

// A 64-bit integer (decimal string, number or bigint) as a number when exact, else a string.
function exactInteger(v) {
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : String(v);
}

function dateDigits(date) {
  const year = Number(date.year);
  return `${pad(Math.abs(year), 4)}-${pad(date.month, 2)}-${pad(date.day, 2)}`;
}

function timeOfDay(time) {
  return `${pad(time.hours, 2)}:${pad(time.minutes, 2)}:${pad(time.seconds, 2)}` +
      fraction(time.micros);
}

function utcOffset(seconds) {
  const magnitude = Math.abs(seconds);
  let text = `${seconds < 0 ? '-' : '+'}${pad(Math.floor(magnitude / 3600), 2)}:` +
      pad(Math.floor(magnitude / 60) % 60, 2);
  if (magnitude % 60 !== 0) text += ':' + pad(magnitude % 60, 2);
  return text;
}

function formatDate(date) {
  if (date.infinity) return date.infinity > 0 ? 'infinity' : '-infinity';
  return dateDigits(date) + (date.year < 0 ? ' BC' : '');
}

function formatTime(time) {
  const nonZero = time.hours || time.minutes || time.seconds || time.micros;
  let text = (time.negative && nonZero ? '-' : '') + timeOfDay(time);
  // proto3 `optional`: proto-loader leaves the field undefined/null when it is not set.
  if (time.utcOffsetSeconds !== undefined && time.utcOffsetSeconds !== null) {
    text += utcOffset(time.utcOffsetSeconds);
  }
  return text;
}

function formatDateTime(datetime) {
  const date = datetime.date ?? {year: 0, month: 0, day: 0, infinity: 0};
  if (date.infinity) return date.infinity > 0 ? 'infinity' : '-infinity';
  const time = datetime.time ?? {hours: 0, minutes: 0, seconds: 0, micros: 0};
  return `${dateDigits(date)} ${timeOfDay(time)}${date.year < 0 ? ' BC' : ''}`;
}

// Proleptic Gregorian (year, month, day) of a day count since 1970-01-01; the year is
// astronomical (0 = 1 BC). The era arithmetic is the standard days-to-civil conversion.
function civilFromDays(days) {
  const z = days + 719468n;
  const era = (z >= 0n ? z : z - 146096n) / 146097n;
  const doe = z - era * 146097n;
  const yoe = (doe - doe / 1460n + doe / 36524n - doe / 146096n) / 365n;
  const doy = doe - (365n * yoe + yoe / 4n - yoe / 100n);
  const mp = (5n * doy + 2n) / 153n;
  const day = doy - (153n * mp + 2n) / 5n + 1n;
  const month = mp < 10n ? mp + 3n : mp - 9n;
  const year = yoe + era * 400n + (month <= 2n ? 1n : 0n);
  return {year, month: Number(month), day: Number(day)};
}

// UTC microseconds since the epoch as "YYYY-MM-DDTHH:MM:SS[.f]Z" (" BC" after years before 1).
function formatTimestampMicros(value) {
  const micros = BigInt(value);
  if (micros === INT64_MAX) return 'infinity';
  if (micros === INT64_MIN) return '-infinity';
  let days = micros / MICROS_PER_DAY;
  let time = micros % MICROS_PER_DAY;
  if (time < 0n) {
    time += MICROS_PER_DAY;
    days -= 1n;
  }
  const date = civilFromDays(days);
  const bc = date.year <= 0n;
  const year = bc ? 1n - date.year : date.year;
  const seconds = Number(time / MICROS_PER_SECOND);
  return `${pad(year, 4)}-${pad(date.month, 2)}-${pad(date.day, 2)}T` +
      `${pad(Math.floor(seconds / 3600), 2)}:${pad(Math.floor(seconds / 60) % 60, 2)}:` +
      `${pad(seconds % 60, 2)}${fraction(Number(time % MICROS_PER_SECOND))}Z${bc ? ' BC' : ''}`;
}

// ISO 8601 with Postgres' IntervalStyle iso_8601 rules: truncating division, so every field
// carries the sign of what it came from; zero fields are left out.
function formatInterval(interval) {
  const totalMonths = Number(interval.months);
  const years = Math.trunc(totalMonths / 12);
  const months = totalMonths % 12;
  const days = Number(interval.days);
  const micros = BigInt(interval.micros);
  if (years === 0 && months === 0 && days === 0 && micros === 0n) return 'PT0S';
  let rest = micros;
  const hours = rest / (3600n * MICROS_PER_SECOND);
  rest -= hours * 3600n * MICROS_PER_SECOND;
  const minutes = rest / (60n * MICROS_PER_SECOND);
  rest -= minutes * 60n * MICROS_PER_SECOND;
  const seconds = rest / MICROS_PER_SECOND;
  const micro = rest - seconds * MICROS_PER_SECOND;
  const part = (v, unit) => (v === 0 || v === 0n ? '' : `${v}${unit}`);
  let text = 'P' + part(years, 'Y') + part(months, 'M') + part(days, 'D');
  if (micros !== 0n) text += 'T';
  text += part(hours, 'H') + part(minutes, 'M');
  if (seconds !== 0n || micro !== 0n) {
    const negative = seconds < 0n || micro < 0n;
    const abs = (v) => (v < 0n ? -v : v);
    text += `${negative ? '-' : ''}${abs(seconds)}${fraction(Number(abs(micro)))}S`;
  }
  return text;
}

function formatDouble(d) {
  if (Number.isNaN(d)) return 'NaN';
  if (d === Infinity) return 'Infinity';
  if (d === -Infinity) return '-Infinity';
  return d;
}

function parseJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

// One sluice.v1.Value to its JS value.
function decodeValue(value) {
  if (value === null || value === undefined) return null;
  switch (value.kind) {
    case 'int64':
    case 'uint64':
      return exactInteger(value[value.kind]);
    case 'double':
      return formatDouble(value.double);
    case 'decimal':
    case 'string':
      return value[value.kind];
    case 'bytes':
      return Buffer.from(value.bytes).toString('base64');
    case 'bool':
      return value.bool;
    case 'date':
      return formatDate(value.date);
    case 'time':
      return formatTime(value.time);
    case 'datetime':
      return formatDateTime(value.datetime);
    case 'timestampMicros':
      return formatTimestampMicros(value.timestampMicros);
    case 'json':
      return parseJson(value.json);
    case 'array':
      return (value.array.elements ?? []).map(decodeValue);
    case 'raw':
      return value.raw.text;
    case 'interval':
      return formatInterval(value.interval);
    default:  // 'null' or no kind set
      return null;
  }
}

// Sets out[name] = value as an own property, even for a column named "__proto__".
function setColumn(out, name, value) {
  Object.defineProperty(out, name, {value, enumerable: true, writable: true, configurable: true});
}

// One sluice.v1.Row to {column: value}, in the table's column order.
function decodeRow(row) {
  const out = {};
  for (const field of row.fields ?? []) setColumn(out, field.name, decodeValue(field.value));
  return out;
}

module.exports = {decodeValue, decodeRow, setColumn, formatTimestampMicros, exactInteger};
