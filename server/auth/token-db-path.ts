import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * Where the token database is kept when `--db` does not say: $BERTH_DATA_DIR/tokens.db, else
 * $XDG_DATA_HOME/berth/tokens.db, else ~/.local/share/berth/tokens.db: it is data (it changes with
 * every token issued, used or revoked), so it lives where XDG puts data, not beside the config.
 */
export function defaultTokenDbPath(env: NodeJS.ProcessEnv = process.env): string {
	if (env['BERTH_DATA_DIR']) {
		return join(env['BERTH_DATA_DIR'], 'tokens.db');
	}
	const base = env['XDG_DATA_HOME'] || join(homedir(), '.local', 'share');
	return join(base, 'berth', 'tokens.db');
}
