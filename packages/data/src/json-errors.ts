/**
 * Where a JSON text is broken, in the terms a user fixes it in (line and column), from V8's JSON.parse errors —
 * which give a character position for some mistakes and only an excerpt for others.
 */

/** JSON.parse's message without the position or the excerpt V8 adds (the caller names line and column instead). */
export function jsonMessage(message: string): string {
  return message.replace(/ in JSON at position \d+[^]*$/, '').replace(/^(Unexpected token '[^]{1,2}?'), [^]*$/, '$1');
}

/**
 * Where JSON.parse first fails on `text` and why, or undefined when the text is valid JSON or only stops early
 * (a truncated record). V8 gives the position in some messages ("… in JSON at position 12") but not in others
 * ("Unexpected token 'x', …"): then it is the shortest prefix that fails for another reason than its end.
 */
export function jsonSyntaxError(text: string): { position: number; message: string } | undefined {
  const failure = (t: string): { position?: number; message: string; atEnd: boolean } | undefined => {
    try {
      JSON.parse(t);
      return undefined;
    } catch (err) {
      const message = (err as Error).message;
      const m = /at position (\d+)/.exec(message);
      const position = m ? Number(m[1]) : undefined;
      const text = jsonMessage(message);
      return { position, message: text, atEnd: /Unexpected end of JSON input/.test(message) || (position !== undefined && position >= t.length) };
    }
  };
  const whole = failure(text);
  if (!whole || whole.atEnd) return undefined;
  if (whole.position !== undefined) return { position: whole.position, message: whole.message };
  let lo = 1;
  let hi = text.length; // the whole text fails for a reason other than its end
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const f = failure(text.slice(0, mid));
    if (f && !f.atEnd) hi = mid;
    else lo = mid + 1;
  }
  return { position: lo - 1, message: failure(text.slice(0, lo))?.message ?? whole.message };
}

/** Line and column (1-based) of `position` in `text`, which starts at `line`, `column` of the file. */
export function locate(text: string, position: number, line: number, column: number): { line: number; column: number } {
  const before = text.slice(0, position);
  const nl = before.lastIndexOf('\n');
  if (nl < 0) return { line, column: column + position };
  return { line: line + (before.match(/\n/g)?.length ?? 0), column: position - nl };
}

/**
 * The line and column (1-based) of the first syntax error of a whole JSON document, with JSON.parse's message;
 * undefined when it parses. A document that only ends too early is placed at its end.
 */
export function locateJsonError(text: string): { line: number; column: number; message: string } | undefined {
  try {
    JSON.parse(text);
    return undefined;
  } catch (err) {
    const e = jsonSyntaxError(text) ?? { position: text.length, message: jsonMessage((err as Error).message) };
    return { ...locate(text, e.position, 1, 1), message: e.message };
  }
}
