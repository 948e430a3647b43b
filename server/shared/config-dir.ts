import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * Where Berth keeps its files, the agent's (its token) and the client's (saved logins):
 * $BERTH_CONFIG_DIR, else $XDG_CONFIG_HOME/berth, else ~/.config/berth.
 */
export function defaultConfigDir(env: NodeJS.ProcessEnv = process.env): string {
	if (env['BERTH_CONFIG_DIR']) {
		return env['BERTH_CONFIG_DIR'];
	}
	const base = env['XDG_CONFIG_HOME'] || join(homedir(), '.config');
	return join(base, 'berth');
}
