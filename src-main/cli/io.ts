// The CLI's view of the process: output streams and the signal that SIGINT aborts, injectable for tests.

export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  /** Aborted on SIGINT; long commands stop at their next check and exit 130. */
  interrupt: AbortSignal;
}
