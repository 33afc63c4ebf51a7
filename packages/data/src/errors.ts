/**
 * Bad input in a data file: names the file, the record (index, line number or id) and what was expected, so a
 * user can fix the file without reading a stack trace.
 */
export class DataFormatError extends Error {
  constructor(
    readonly file: string,
    /** Where in the file: 'line 12', 'record 3 (id "q7")' … */
    readonly record: string | undefined,
    readonly detail: string,
  ) {
    super(record === undefined ? `${file}: ${detail}` : `${file}, ${record}: ${detail}`);
    this.name = 'DataFormatError';
  }
}
