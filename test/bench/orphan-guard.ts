// The bench's server processes end when the bench does, even if it was killed before it could
// stop them: once this process has a new parent (the old one is gone), it exits.
export function exitWhenOrphaned(): void {
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) process.exit(1);
  }, 1_000).unref();
}
