import { Command, CommanderError } from 'commander';
import { batchCommand } from './commands/batch.ts';
import { adminCommand, jobsCommand, poolCommand, usageCommand } from './commands/other.ts';
import { describeFailure, EXIT } from './errors.ts';

/** The `switchyard` command tree. */
export function program(): Command {
  const root = new Command('switchyard')
    .description('Switchyard from the command line: batches, jobs, usage, the pool, tenants and keys')
    .option('--url <url>', 'API base URL (env SWITCHYARD_URL, default http://127.0.0.1:8080)')
    .option('--key <key>', 'API key (env SWITCHYARD_API_KEY)')
    .option('--json', 'machine-readable output on stdout')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  for (const cmd of [batchCommand(), jobsCommand(), usageCommand(), poolCommand(), adminCommand()]) {
    root.addCommand(cmd);
  }
  // Every subcommand reports its errors through run() below, not by exiting itself.
  const override = (c: Command) => {
    c.exitOverride();
    c.commands.forEach(override);
  };
  override(root);
  return root;
}

/** Runs the CLI; resolves with the exit code. One line on stderr says why when it is not 0. */
export async function run(argv: string[]): Promise<number> {
  try {
    await program().parseAsync(argv, { from: 'user' });
    return EXIT.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      // commander has printed its message (or the help) already.
      return err.exitCode === 0 ? EXIT.ok : EXIT.input;
    }
    const { code, line } = describeFailure(err);
    process.stderr.write(`switchyard: ${line}\n`);
    return code;
  }
}
