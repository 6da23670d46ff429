// Loaded with `node --import` into a process a benchmark measures: at exit it writes
// process.resourceUsage() (CPU µs, max RSS KiB) to the file named by SWITCHYARD_USAGE_FILE.
import { writeFileSync } from 'node:fs';

process.on('exit', () => {
  const file = process.env.SWITCHYARD_USAGE_FILE;
  if (file) writeFileSync(file, JSON.stringify(process.resourceUsage()));
});
