import { hostname } from 'node:os';
import { BerthError, errorMessage } from '../../protocol/errors';
import { DEV_MODE_AUTH } from '../../protocol/constants';
import { defaultSessionName, isSessionName, MAX_SESSION_NAME_CHARS } from '../../protocol/session-name';
import { isSameAgent, parseAgentUrl, type AgentAddress } from '../client/agent-url';
import {
	describeLogin,
	findSavedLogin,
	readLoginConfig,
	touchLogin,
	type FoundLogin,
	type LoginConfig,
} from '../client/login-config';
import type { Logger } from '../shared/log';
import { readExplicitToken, readTokenFromUser, type ClientToken } from './read-token';

/** What a client command was given to find its agent and token. */
export interface CredentialFlags {
	/** `-u`. */
	readonly url?: string;
	/** `--token-file` (`-`: stdin). */
	readonly tokenFile?: string;
	/** `--no-token`: the agent runs without one. */
	readonly noToken?: boolean;
	/** `--session-name`. */
	readonly sessionName?: string;
	/** `--dev`: dev mode's credential instead of a token. */
	readonly dev?: boolean;
	readonly env: NodeJS.ProcessEnv;
	/** Where saved logins apply from: the working directory. */
	readonly cwd: string;
	/** Berth's config folder (defaultConfigDir()). */
	readonly configDir: string;
	readonly log: Logger;
	readonly now: () => Date;
}

/** The agent a client command talks to, the token it presents, and the name of its session. */
export interface ClientCredentials {
	readonly address: AgentAddress;
	/** Undefined with --no-token. Never logged. */
	readonly token: string | undefined;
	/** Sent to the agent, which shows it beside the user. */
	readonly sessionName: string;
	/** The saved login used, when one was. */
	readonly saved?: FoundLogin;
	/** The agent key the saved login pinned (its init URL's `k`): the agent must prove it holds it. */
	readonly agentKeyPin?: string;
}

/**
 * Finds the agent and the token, in the order every client command uses:
 *   1. --token-file (`-`: stdin)   2. $BERTH_TOKEN   3. the login saved for the working directory
 *   or its nearest ancestor (berth login)   4. a prompt on a terminal (or stdin's first line).
 * The agent is -u, else the saved login's, else the default_backend_url preference. A saved login
 * is used only for its own agent: with a -u that names another, its token is not sent there. One
 * log line (info) says which token was used.
 * @throws BerthError BERTH_ERR_USAGE (no agent, bad -u or --session-name, a config file that does
 * not parse), BERTH_ERR_TOKEN ("No cached credentials", or a token that breaks the rules).
 */
export async function resolveClientCredentials(flags: CredentialFlags): Promise<ClientCredentials> {
	const explicit = flags.url !== undefined ? parseAgentUrl(flags.url) : undefined;
	checkSessionNameFlag(flags.sessionName);
	if (flags.dev) {
		return devCredentials(explicit, flags);
	}
	const warn = (message: string) => flags.log.warn(message);
	const given = flags.noToken ? undefined : await readExplicitToken({ ...flags, warn });
	let config: LoginConfig | undefined;
	const loadConfig = () => (config ??= readLoginConfig(flags.configDir, warn));
	// The saved logins are read only when they may give the token, or the agent.
	const found = !flags.noToken && (!given || !explicit) ? findSavedLogin(loadConfig(), flags.cwd) : undefined;
	const savedAgent = found && parseAgentUrl(found.login.backend_url);
	const saved = !given && savedAgent && (!explicit || isSameAgent(explicit, savedAgent)) ? found : undefined;
	const address =
		explicit ?? (saved ? savedAgent : undefined) ?? defaultAgent(loadConfig(), flags, given, found);
	let token: ClientToken | undefined = given;
	if (saved) {
		token = { token: saved.login.auth_token, source: 'saved-login', description: savedDescription(saved) };
		touch(flags, saved);
	} else if (!given && !flags.noToken) {
		token = await readTokenFromUser(address.display, noCredentials(address, flags.cwd, found));
	}
	// Said where it may surprise: a forgotten $BERTH_TOKEN, a saved login, a pipe. A file the user
	// named on this command line, or the prompt's own words, need no second line.
	if (token && token.source !== 'prompt') {
		const level = token.source === 'token-file' ? 'debug' : 'info';
		flags.log[level](`using ${token.description}`);
	}
	return {
		address,
		token: token?.token,
		sessionName:
			flags.sessionName ??
			saved?.login.session_name ??
			defaultSessionName(saved?.login.session_prefix ?? '', hostname()),
		...(saved ? { saved } : {}),
		...(saved?.login.agent_key !== undefined ? { agentKeyPin: saved.login.agent_key } : {}),
	};
}

/** `--dev`: dev mode's credential (a `--dev-mode` agent's testing@testing.local), to the agent -u names. */
function devCredentials(address: AgentAddress | undefined, flags: CredentialFlags): ClientCredentials {
	if (!address || flags.tokenFile !== undefined || flags.noToken) {
		throw new BerthError(
			'BERTH_ERR_USAGE',
			'--dev needs -u (an agent started with --dev-mode) and no --token-file or --no-token: it is the credential',
		);
	}
	flags.log.info('using dev mode (--dev): the agent must run with --dev-mode');
	return {
		address,
		token: DEV_MODE_AUTH,
		sessionName: flags.sessionName ?? defaultSessionName('', hostname()),
	};
}

/** `the login saved for /dir (alice@example.com)`. */
export function savedDescription(found: FoundLogin): string {
	return `the login saved for ${found.dir} (${describeLogin(found.login)})`;
}

/**
 * The agent when neither -u nor a saved login names one: the default_backend_url preference.
 * @throws BerthError when there is none: "No cached credentials" (BERTH_ERR_TOKEN) when no token
 * was given either, else BERTH_ERR_USAGE saying why a saved login was not used.
 */
function defaultAgent(
	config: LoginConfig,
	flags: CredentialFlags,
	given: ClientToken | undefined,
	found: FoundLogin | undefined,
): AgentAddress {
	const url = config.preferences.default_backend_url;
	if (url !== null) {
		return parseAgentUrl(url);
	}
	if (!given && !flags.noToken) {
		throw noCredentials(undefined, flags.cwd, found);
	}
	const why = flags.noToken
		? 'with --no-token, no saved login applies'
		: given && found
			? `${given.description} was given, so ${savedDescription(found)} is not used, nor its agent`
			: `no login is saved for ${flags.cwd} or a folder above it (berth login --init URL saves one)`;
	throw new BerthError('BERTH_ERR_USAGE', `-u URL is required (the agent, e.g. ws://127.0.0.1:8765): ${why}`);
}

/** The seed's "No cached credentials", with what to do about it. */
function noCredentials(
	address: AgentAddress | undefined,
	cwd: string,
	other: FoundLogin | undefined,
): BerthError {
	const elsewhere = other
		? `; the login saved for ${other.dir} is for ${parseAgentUrl(other.login.backend_url).display}, not this agent`
		: '';
	return new BerthError(
		'BERTH_ERR_TOKEN',
		`No cached credentials${address ? ` for ${address.display}` : ''}: no --token-file, no $BERTH_TOKEN, ` +
			`and no login saved for ${cwd} or a folder above it${elsewhere}. Log this directory in with ` +
			`berth login --init URL (the init URL the agent gave you), or pass ${address ? '' : '-u URL and '}--token-file FILE`,
	);
}

/** @throws BerthError BERTH_ERR_USAGE when --session-name is not a session name. */
export function checkSessionNameFlag(name: string | undefined): void {
	if (name !== undefined && !isSessionName(name)) {
		throw new BerthError(
			'BERTH_ERR_USAGE',
			`--session-name must be 1 to ${MAX_SESSION_NAME_CHARS} characters, without control characters`,
		);
	}
}

/** Records the use (at most once a minute); a file that cannot be written is worth a warning, not a failure. */
function touch(flags: CredentialFlags, saved: FoundLogin): void {
	try {
		touchLogin(flags.configDir, saved.dir, flags.now());
	} catch (error) {
		flags.log.warn(`could not record the login's last use: ${errorMessage(error)}`);
	}
}
