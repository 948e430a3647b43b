import {
	describeLogin,
	findSavedLogin,
	readLoginConfig,
	removeAllLogins,
	removeLogin,
} from '../client/login-config';
import { defaultConfigDir } from '../shared/config-dir';
import { COMMON_OPTIONS, parseFlags } from './args';
import { savedDescription } from './client-credentials';
import { ExitCode } from './exit-codes';
import { LOGOUT_HELP } from './help';

/**
 * `berth logout`: removes the login that applies to the working directory, the one client
 * commands run here would use (saved for it or for its nearest ancestor), and says which it was
 * and which applies now, if any; `--all` removes every saved login. The token itself stays valid
 * on the agent (its owner revokes it there).
 */
export async function runLogoutCommand(argv: string[]): Promise<number> {
	const values = parseFlags('logout', argv, { ...COMMON_OPTIONS, all: { type: 'boolean' } });
	if (values.help) {
		process.stdout.write(LOGOUT_HELP);
		return ExitCode.Ok;
	}
	const configDir = defaultConfigDir();
	const warn = (message: string) => process.stderr.write(`berth: ${message}\n`);
	if (values.all) {
		const count = removeAllLogins(configDir);
		process.stdout.write(count === 0 ? 'No logins were saved\n' : `✓ Removed ${plural(count)}\n`);
		return ExitCode.Ok;
	}
	const dir = process.cwd();
	const found = findSavedLogin(readLoginConfig(configDir, warn), dir);
	if (found === undefined) {
		process.stdout.write(`No login is saved for ${dir} or a folder above it\n`);
		return ExitCode.Ok;
	}
	const removed = removeLogin(configDir, found.dir);
	const next = findSavedLogin(readLoginConfig(configDir), dir);
	process.stdout.write(
		`✓ Removed the login saved for ${found.dir} (${describeLogin(removed ?? found.login)})\n` +
			(next ? `  ${capitalize(savedDescription(next))} applies here now\n` : ''),
	);
	return ExitCode.Ok;
}

function plural(count: number): string {
	return count === 1 ? '1 saved login' : `${count} saved logins`;
}

function capitalize(text: string): string {
	return text.charAt(0).toUpperCase() + text.slice(1);
}
