#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { addServerCommands } from './commands.js';

// The same commands as `engram serve|worker|keys`, for images that ship only the server.
const program = new Command('engram-server')
  .description('Engram as an HTTP service.')
  .option('--data-dir <dir>', 'data directory (default: $ENGRAM_HOME, else ~/.engram)')
  .option('--json', 'print JSON only on stdout')
  .exitOverride();
addServerCommands(program, { stdout: process.stdout, env: process.env });

try {
  await program.parseAsync(process.argv.slice(2), { from: 'user' });
} catch (error) {
  if (error instanceof CommanderError) {
    process.exitCode = error.exitCode;
  } else {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`error: ${message}\n`);
    process.exitCode = 1;
  }
}
