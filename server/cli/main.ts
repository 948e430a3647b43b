import { errorMessage } from '../../protocol/errors';
import { BERTH_COMMIT, BERTH_VERSION } from '../shared/version';
import { ExitCode, exitCodeFor } from './exit-codes';
import { runClientCommand } from './client-command';
import { runForwardCommand } from './forward-command';
import { runLoginCommand } from './login-command';
import { runLogoutCommand } from './logout-command';
import { MAIN_HELP } from './help';
import { runServerCommand } from './server-command';
import { runSshCommand } from './ssh-command';
import { runSshHostCommand } from './ssh-host/ssh-host-command';
import { runTokenCommand } from './token-command';

/** The CLI: dispatches to a subcommand and turns any error into one stderr line and an exit code. */
export async function main(argv: string[]): Promise<number> {
	const [command, ...rest] = argv;
	try {
		switch (command) {
			case 'server':
				return await runServerCommand(rest);
			case 'forward':
				return await runForwardCommand(rest);
			case 'client':
				return await runClientCommand(rest);
			case 'connector':
				return await runClientCommand(rest, { connector: true }); // relay mode: a client whose token is a connector token
			case 'token':
				return await runTokenCommand(rest);
			case 'provider':
				return await runClientCommand(['--reverse', ...rest]);
			case 'ssh':
				return await runSshCommand(rest);
			case 'ssh-host': // berth ssh's side on the host (not in the help: berth ssh runs it)
				return await runSshHostCommand(rest);
			case 'login':
				return await runLoginCommand(rest);
			case 'logout':
				return await runLogoutCommand(rest);
			case '--version':
			case '-V':
			case 'version':
				process.stdout.write(`berth ${BERTH_VERSION}\ncommit ${BERTH_COMMIT}\n`);
				return ExitCode.Ok;
			case undefined:
			case '--help':
			case '-h':
			case 'help':
				process.stdout.write(MAIN_HELP);
				return ExitCode.Ok;
			default:
				process.stderr.write(`berth: unknown command ${JSON.stringify(command)}; try berth --help\n`);
				return ExitCode.Usage;
		}
	} catch (error) {
		process.stderr.write(`berth: ${errorMessage(error)}\n`);
		return exitCodeFor(error);
	}
}
