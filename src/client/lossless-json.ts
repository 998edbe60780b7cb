/** JSON.parse that keeps integers beyond ±(2^53−1) exact, as decimal strings, since the server writes 64-bit outputs with all their digits. */

/** A JSON string (skipped whole, so digits inside strings are left alone) or a number. */
const TOKEN = /"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g;
/** An integer literal of 16 or more digits (fractions and exponents excluded): only then can a double round one. */
const LONG_INTEGER = /(?<![\d.])\d{16,}(?![\d.eE])/;

/** Parses `text`; integer literals that a double cannot hold exactly come back as their digits in a string. */
export function parseJsonLosslessly(text: string): unknown {
  if (!LONG_INTEGER.test(text)) return JSON.parse(text);
  const quoted = text.replace(TOKEN, (token) => (token.startsWith('"') || !isUnsafeInteger(token) ? token : `"${token}"`));
  return JSON.parse(quoted);
}

function isUnsafeInteger(token: string): boolean {
  return /^-?\d+$/.test(token) && !Number.isSafeInteger(Number(token));
}
