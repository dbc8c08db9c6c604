// Where the CLI writes: stdout and stderr, one line per call (tests pass their own).
export interface CliIO {
  out: (text: string) => void;
  err: (text: string) => void;
}

export const defaultIO: CliIO = {
  out: (t) => process.stdout.write(t + '\n'),
  err: (t) => process.stderr.write(t + '\n'),
};
