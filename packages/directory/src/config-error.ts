// A configuration file is wrong. Carries the exact place so an operator can jump straight to
// it: the message is `file:line:column: reason`, the format editors and CI annotations parse.
export class ConfigError extends Error {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly reason: string;
  constructor(file: string, line: number, column: number, reason: string) {
    super(`${file}:${line}:${column}: ${reason}`);
    this.name = 'ConfigError';
    this.file = file;
    this.line = line;
    this.column = column;
    this.reason = reason;
  }
}
