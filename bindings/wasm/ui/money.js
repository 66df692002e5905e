// Money as the REST API gives it: decimal strings ("0.00042"), never floats. Formatting hands the
// string itself to Intl.NumberFormat (which reads a string as an exact decimal), with as many
// fraction digits as the string has; sums are exact, on scaled BigInts.

const DECIMAL = /^(-?)(\d+)(?:\.(\d+))?$/;

/** `s` as [units scaled by 10^scale, scale]; throws on anything but a plain decimal. */
function scaled(s) {
  const m = DECIMAL.exec(String(s));
  if (!m) throw new TypeError(`not a decimal amount: ${s}`);
  const frac = m[3] ?? '';
  const units = BigInt(m[2] + frac);
  return [m[1] ? -units : units, frac.length];
}

/** The exact sum of decimal strings, as a decimal string without trailing zeros ("0" when empty). */
export function sumDecimals(values) {
  let scale = 0;
  const parts = values.map((v) => {
    const p = scaled(v);
    scale = Math.max(scale, p[1]);
    return p;
  });
  let total = 0n;
  for (const [units, s] of parts) total += units * 10n ** BigInt(scale - s);
  const neg = total < 0n;
  const digits = (neg ? -total : total).toString().padStart(scale + 1, '0');
  const int = digits.slice(0, digits.length - scale);
  const frac = digits.slice(digits.length - scale).replace(/0+$/, '');
  return `${neg ? '-' : ''}${int}${frac ? `.${frac}` : ''}`;
}

/** Whether two decimal strings are the same amount ("0.10" and "0.1" are). */
export function sameAmount(a, b) {
  return sumDecimals([a]) === sumDecimals([b]);
}

/** A decimal string as money in `locale` and `currency`, every digit kept (at least 2 decimals). */
export function formatMoney(amount, locale, currency = 'USD') {
  const s = String(amount);
  scaled(s); // refuse what is not a decimal
  const frac = (s.split('.')[1] ?? '').replace(/0+$/, '').length;
  return new Intl.NumberFormat(locale, {
    style: 'currency',
    currency,
    minimumFractionDigits: 2,
    maximumFractionDigits: Math.min(Math.max(frac, 2), 100),
  }).format(s);
}

/** A whole count (tokens, requests) in `locale`. */
export function formatCount(n, locale) {
  return new Intl.NumberFormat(locale, { maximumFractionDigits: 0 }).format(n);
}

/**
 * A decimal string as a number, for drawing only (a bar's height): never summed, compared or
 * shown.
 */
export function drawingNumber(amount) {
  return Number(amount);
}
