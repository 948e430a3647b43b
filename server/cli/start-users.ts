import { hostname } from 'node:os';
import { BerthError } from '../../protocol/errors';
import type { Timers } from '../../protocol/timers';
import { AgentKey } from '../auth/agent-key';
import type { BearerVerifier } from '../auth/bearer-verifier';
import { devModeVerifier, firstVerifier } from '../auth/dev-mode';
import type { OidcSignIn } from '../auth/oidc-sign-in';
import { openAccounts, type OpenAccounts } from '../auth/open-accounts';
import type { WebOptions } from '../http/web/web-context';
import { defaultConfigDir } from '../shared/config-dir';
import type { Logger } from '../shared/log';
import { isLoopbackAddress } from '../shared/loopback-address';
import { readOidcSignIn } from './read-oidc-sign-in';
import { resolveWebOptions } from './web-options';

/** The listener of `berth server -r` when --socks-host is not given. */
const DEFAULT_SOCKS_HOST = '127.0.0.1';

/** The flags of `berth server` that say who may sign in (the rest are the agent's). */
export interface UsersFlags {
	readonly accounts?: boolean;
	readonly db?: string;
	readonly 'jwt-secret-file'?: string;
	readonly 'owner-email'?: string;
	readonly 'dev-mode'?: boolean;
	readonly reverse?: boolean;
	readonly 'socks-host'?: string;
	readonly 'oidc-issuer'?: string;
	readonly 'oidc-client-id'?: string;
	readonly 'oidc-client-secret-file'?: string;
	readonly 'allow-email'?: string[];
	readonly 'public-url'?: string;
}

/** What `--accounts` and `--dev-mode` add to an agent: other credentials, and its own key. */
export interface AgentUsers {
	readonly bearer: BearerVerifier;
	readonly agentKey: AgentKey;
	readonly accounts?: OpenAccounts;
	/** The web pages (sign-in, /tokens, the device flow): with accounts. */
	readonly web?: WebOptions;
	/** `--oidc-issuer`: sign-in through an OpenID Connect provider, for the web pages. */
	readonly signIn?: OidcSignIn;
	readonly devMode: boolean;
}

/**
 * `--accounts` (user tokens, from the token database) and `--dev-mode` (any `--dev` client is
 * testing@testing.local: loopback only). Either loads the agent's key, which proves the agent to
 * clients that hold no secret it could know.
 */
export async function startUsers(
	values: UsersFlags,
	host: string,
	log: Logger,
	timers: Timers,
): Promise<AgentUsers | undefined> {
	const devMode = values['dev-mode'] ?? false;
	if (
		!values.accounts &&
		(values.db !== undefined ||
			values['jwt-secret-file'] !== undefined ||
			values['owner-email'] !== undefined)
	) {
		throw new BerthError('BERTH_ERR_USAGE', '--db, --jwt-secret-file and --owner-email go with --accounts');
	}
	// First: flags without --accounts are refused, and a wrong issuer stops the start with no
	// database open yet.
	const signIn = await readOidcSignIn(
		{
			accounts: values.accounts ?? false,
			issuer: values['oidc-issuer'],
			clientId: values['oidc-client-id'],
			clientSecretFile: values['oidc-client-secret-file'],
			allowEmail: values['allow-email'] ?? [],
			publicUrl: values['public-url'],
		},
		timers,
		log,
	);
	if (!values.accounts && !devMode) {
		return undefined;
	}
	if (devMode) {
		checkDevModeLoopback(host, values.reverse ? (values['socks-host'] ?? DEFAULT_SOCKS_HOST) : undefined);
	}
	// Checked before anything is opened: a bad --owner-email stops the start at once.
	const web = values.accounts ? resolveWebOptions(values['owner-email'], hostname(), process.env) : undefined;
	const configDir = defaultConfigDir();
	const agentKey = AgentKey.loadOrCreate(configDir);
	const accounts = values.accounts
		? await openAccounts(
				{
					configDir,
					env: process.env,
					...(values.db !== undefined ? { dbPath: values.db } : {}),
					...(values['jwt-secret-file'] !== undefined ? { jwtSecretFile: values['jwt-secret-file'] } : {}),
				},
				timers,
				log,
			)
		: undefined;
	const verifiers = [...(accounts ? [accounts.accounts] : []), ...(devMode ? [devModeVerifier] : [])];
	return {
		bearer: firstVerifier(verifiers),
		agentKey,
		devMode,
		...(accounts ? { accounts } : {}),
		...(web ? { web: { ...web, ...(signIn ? { signIn } : {}) } } : {}),
		...(signIn ? { signIn } : {}),
	};
}

/** Dev mode lets anyone in without a token: it must not be reachable from another machine. */
function checkDevModeLoopback(host: string, socksHost: string | undefined): void {
	for (const [flag, address] of [
		['--host', host],
		['--socks-host', socksHost],
	] as const) {
		if (address !== undefined && !isLoopbackAddress(address) && address !== 'localhost') {
			throw new BerthError(
				'BERTH_ERR_USAGE',
				`--dev-mode lets any client in without a token, so every listener must be loopback: ${flag} ${address} is not ` +
					'(use 127.0.0.1, or leave out --dev-mode)',
			);
		}
	}
}

export function printUsersBanner(users: AgentUsers, statusUrl: string): void {
	if (users.devMode) {
		process.stderr.write(
			'\n  *** DEV MODE: any local client that says --dev is testing@testing.local, without a token. ***\n' +
				'  *** Never use it on a shared machine.                                                    ***\n\n',
		);
	}
	if (users.accounts) {
		process.stdout.write(
			`Accounts: user tokens in ${users.accounts.dbPath}; create one with berth token create --email E\n`,
		);
	}
	if (users.web) {
		process.stdout.write(
			`Token page ${statusUrl}tokens (the owner, ${users.web.ownerEmail}, signs in with the connection token)\n`,
		);
	}
	if (users.signIn) {
		process.stdout.write(
			`Sign-in: OpenID Connect at ${users.signIn.issuer} for ${users.signIn.allowed}; register the redirect URI ` +
				`${users.signIn.redirectUri ?? '<how browsers reach this agent>/auth/callback (or give --public-url)'} with the provider\n`,
		);
	}
	process.stdout.write(`Agent key ${users.agentKey.fingerprint} (init URLs pin it)\n`);
}
