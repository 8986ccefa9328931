// CSV (RFC 4180: quoted fields, doubled quotes, newlines inside quotes) parsed incrementally, so files larger than
// memory stream through; and CSV writing with the same quoting rules.

/** Feeds text in chunks and emits complete records with the line on which each began. */
export class CsvParser {
  #field = '';
  #record: string[] = [];
  #inQuotes = false;
  #quoteSeen = false;
  #line = 1;
  #recordLine = 1;
  #afterCarriageReturn = false;

  /** Parses a chunk; calls `emit` for each record completed by it. Runs of ordinary characters are copied as slices. */
  push(chunk: string, emit: (record: string[], line: number) => void): void {
    const plainRun = /[^,"\r\n]+/y;
    const quotedRun = /[^"\n]+/y;
    let index = 0;
    while (index < chunk.length) {
      const character = chunk[index]!;
      if (this.#afterCarriageReturn) {
        this.#afterCarriageReturn = false;
        if (character === '\n') {
          index++; // \r\n already ended the record
          continue;
        }
      }
      const run = this.#inQuotes ? quotedRun : plainRun;
      run.lastIndex = index;
      const match = run.exec(chunk);
      if (match) {
        if (!this.#inQuotes) this.#quoteSeen = false;
        this.#field += match[0];
        index = run.lastIndex;
        continue;
      }
      index++;
      if (this.#inQuotes) {
        if (character === '"') {
          this.#inQuotes = false;
          this.#quoteSeen = true;
        } else {
          this.#line++; // a line break inside a quoted field
          this.#field += character;
        }
      } else if (character === '"') {
        if (this.#quoteSeen) this.#field += '"'; // "" inside a quoted field
        this.#inQuotes = true;
        this.#quoteSeen = false;
      } else if (character === ',') {
        this.#endField();
      } else {
        this.#endField();
        emit(this.#record, this.#recordLine);
        this.#record = [];
        this.#line++;
        this.#recordLine = this.#line;
        this.#afterCarriageReturn = character === '\r';
      }
    }
  }

  /** Flushes the last record when the input does not end with a newline. */
  end(emit: (record: string[], line: number) => void): void {
    if (this.#field !== '' || this.#record.length > 0 || this.#quoteSeen) {
      this.#endField();
      emit(this.#record, this.#recordLine);
      this.#record = [];
    }
  }

  get unterminatedQuote(): boolean {
    return this.#inQuotes;
  }

  #endField(): void {
    this.#record.push(this.#field);
    this.#field = '';
    this.#quoteSeen = false;
  }
}

/** Parses a whole CSV text into records (for small files such as patch lists). */
export function parseCsv(text: string): { record: string[]; line: number }[] {
  const records: { record: string[]; line: number }[] = [];
  const parser = new CsvParser();
  const emit = (record: string[], line: number) => records.push({ record, line });
  parser.push(text, emit);
  parser.end(emit);
  return records;
}

/** One CSV field, quoted when it holds a comma, quote or line break. */
export function csvField(value: string | number): string {
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvLine(values: (string | number)[]): string {
  return values.map(csvField).join(',') + '\n';
}
