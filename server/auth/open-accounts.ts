import type { IDisposable } from '../../protocol/lifecycle';
import type { Timers } from '../../protocol/timers';
import type { Logger } from '../shared/log';
import { Accounts } from './accounts';
import { resolveJwtSecret, type JwtSecret } from './jwt-secret';
import { openSqliteTokenStore } from './sqlite-token-store';
import { defaultTokenDbPath } from './token-db-path';
import type { TokenStore } from './token-store';
import { UserTokens } from './user-tokens';

export interface AccountsFlags {
	/** `--db`: the token database; by default under the user's data folder. */
	readonly dbPath?: string;
	/** `--jwt-secret-file`: the signing secret; by default generated once beside the connection token. */
	readonly jwtSecretFile?: string;
	readonly configDir: string;
	readonly env: NodeJS.ProcessEnv;
}

/** An agent's accounts, opened: the store, the issuer and verifier, and what watches tokens in use. */
export interface OpenAccounts extends IDisposable {
	readonly accounts: Accounts;
	readonly tokens: UserTokens;
	readonly store: TokenStore;
	readonly secret: JwtSecret;
	readonly dbPath: string;
}

/**
 * Opens the token database and the signing secret for `--accounts` (or for `berth token … --db`
 * without a running agent). Disposing closes the store.
 * @throws BerthError BERTH_ERR_STORE or BERTH_ERR_TOKEN, whose messages say what to fix.
 */
export async function openAccounts(flags: AccountsFlags, timers: Timers, log: Logger): Promise<OpenAccounts> {
	const warn = (message: string): void => log.warn(message);
	const secret = resolveJwtSecret({
		configDir: flags.configDir,
		warn,
		...(flags.jwtSecretFile !== undefined ? { secretFile: flags.jwtSecretFile } : {}),
	});
	const dbPath = flags.dbPath ?? defaultTokenDbPath(flags.env);
	const store = await openSqliteTokenStore(dbPath, { warn });
	const tokens = new UserTokens({ store, secret: secret.key });
	const accounts = new Accounts({ tokens, store, timers, wallClock: Date.now, log });
	const dispose = (): void => {
		// What uses the store first, the store last.
		accounts.dispose();
		tokens.dispose();
		store.dispose();
	};
	return { accounts, tokens, store, secret, dbPath, dispose };
}
