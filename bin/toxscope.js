#!/usr/bin/env node
// The `toxscope` command: runs the built CLI, or says how to build it.
import { existsSync } from 'node:fs';

const cli = new URL('../out/main/cli.js', import.meta.url);
if (!existsSync(cli)) {
  process.stderr.write(
    'toxscope: the app is not built yet. Run `npm run build` in the ToxScope folder, then try again.\n',
  );
  process.exit(2);
}
await import(cli.href);
