import { isAbsolute, resolve } from 'node:path';
import { isClientToken } from '../../protocol/client-token';
import { BerthError, errorMessage } from '../../protocol/errors';
import { isBoolean, isObject, isString } from '../../protocol/guards';
import { isAgentKeyFingerprint } from '../../protocol/init-url';
import { isSessionName, isSessionPrefix } from '../../protocol/session-name';
import { parseAgentUrl } from './agent-url';
import { readSecretFile, writeSecretFileAtomically } from '../shared/secret-file';

/**
 * The client's saved logins, `<config dir>/config.json` (`berth login --init`), per directory:
 *
 *     { "sessions": { "/home/u/proj": { "user_id", "auth_token", "user_email", "last_used",
 *                                        "backend_url", "session_prefix" } },
 *       "preferences": { "default_backend_url": null, "auto_open_browser": false } }
 *
 * A command run in a directory uses the entry of that directory or of its nearest ancestor. The
 * file holds tokens: mode 0600 in a 0700 folder, replaced whole and atomically on every change,
 * never followed through a link. Members Berth does not know are kept as they are. Each change
 * reads the file again first, so two commands lose at most what both changed in the same
 * millisecond.
 */

/** The file's name in Berth's config folder. */
export const LOGIN_CONFIG_FILE = 'config.json';
/** `last_used` is written at most this often per entry (a loop of commands is not a loop of writes). */
export const LAST_USED_INTERVAL_MS = 60_000;

/** One directory's login. Field names are the file's. */
export interface SavedLogin {
	/** The user token's `sub`; '' for a connection token. */
	readonly user_id: string;
	/** The token. Never logged. */
	readonly auth_token: string;
	/** The user token's `email`; '' for a connection token. */
	readonly user_email: string;
	/** ISO 8601, when a command last used it. */
	readonly last_used: string;
	/** The agent, `wss://HOST[:PORT]`. */
	readonly backend_url: string;
	/** The init URL's session-name prefix ('' when it had none). */
	readonly session_prefix: string;
	/** `berth login --session-name`: the session name commands send by default (Berth's addition). */
	readonly session_name?: string;
	/** The init URL's agent key fingerprint, `SHA256:…`, for pinning the agent (Berth's addition). */
	readonly agent_key?: string;
}

export interface LoginPreferences {
	/** The agent for commands given neither -u nor a saved login. */
	readonly default_backend_url: string | null;
	readonly auto_open_browser: boolean;
}

export interface LoginConfig {
	/** By absolute directory. */
	readonly sessions: Readonly<Record<string, SavedLogin>>;
	readonly preferences: LoginPreferences;
}

/** The login that applies to a directory, and the directory it was saved for. */
export interface FoundLogin {
	readonly dir: string;
	readonly login: SavedLogin;
}

const EMPTY_CONFIG: LoginConfig = {
	sessions: {},
	preferences: { default_backend_url: null, auto_open_browser: false },
};

/** What to do about a file that does not parse. */
const FIX_HINT = 'fix the file, or delete it (it holds only the logins that berth login saved)';

/**
 * Reads the saved logins of `configDir`: none when there is no file.
 * @param warn Receives what the user should know (a mode open to others, now 0600).
 * @throws BerthError BERTH_ERR_USAGE naming the file and what is wrong with it.
 */
export function readLoginConfig(configDir: string, warn?: (message: string) => void): LoginConfig {
	const file = readSecretFile(configDir, LOGIN_CONFIG_FILE, warn);
	return file === undefined ? EMPTY_CONFIG : parseLoginConfig(file.text, file.path);
}

/** Writes `config` whole: 0600, atomically (a reader sees the old file or the new one, never half). */
export function writeLoginConfig(configDir: string, config: LoginConfig): void {
	writeSecretFileAtomically(configDir, LOGIN_CONFIG_FILE, JSON.stringify(config, null, '\t') + '\n');
}

/**
 * Reads the file, applies `change` and writes the result, unless `change` returns undefined.
 * Returns what was written (or read).
 */
export function updateLoginConfig(
	configDir: string,
	change: (config: LoginConfig) => LoginConfig | undefined,
): LoginConfig {
	const config = readLoginConfig(configDir);
	const changed = change(config);
	if (changed === undefined) {
		return config;
	}
	writeLoginConfig(configDir, changed);
	return changed;
}

/** The login of `cwd` or of its nearest ancestor that has one. */
export function findSavedLogin(config: LoginConfig, cwd: string): FoundLogin | undefined {
	let dir = resolve(cwd);
	for (;;) {
		const login = Object.hasOwn(config.sessions, dir) ? config.sessions[dir] : undefined;
		if (login !== undefined) {
			return { dir, login };
		}
		const parent = resolve(dir, '..');
		if (parent === dir) {
			return undefined;
		}
		dir = parent;
	}
}

/**
 * Saves `login` for `dir` (made absolute).
 * @throws BerthError BERTH_ERR_USAGE when `dir` has a login already and `replace` is false.
 */
export function saveLogin(configDir: string, dir: string, login: SavedLogin, replace: boolean): void {
	const key = resolve(dir);
	updateLoginConfig(configDir, (config) => {
		const existing = config.sessions[key];
		if (existing !== undefined && !replace) {
			throw new BerthError(
				'BERTH_ERR_USAGE',
				`a login is already saved for ${key} (${describeLogin(existing)}): ` +
					'berth login --reauth replaces it, berth logout removes it',
			);
		}
		return { ...config, sessions: { ...config.sessions, [key]: login } };
	});
}

/** Removes the login saved for exactly `dir`; returns it, or undefined when there was none. */
export function removeLogin(configDir: string, dir: string): SavedLogin | undefined {
	const key = resolve(dir);
	let removed: SavedLogin | undefined;
	updateLoginConfig(configDir, (config) => {
		removed = config.sessions[key];
		if (removed === undefined) {
			return undefined;
		}
		const sessions = { ...config.sessions };
		delete sessions[key];
		return { ...config, sessions };
	});
	return removed;
}

/** Removes every saved login (preferences stay); returns how many there were. */
export function removeAllLogins(configDir: string): number {
	let count = 0;
	updateLoginConfig(configDir, (config) => {
		count = Object.keys(config.sessions).length;
		return count === 0 ? undefined : { ...config, sessions: {} };
	});
	return count;
}

/**
 * Sets the `last_used` of `dir`'s login to `now`, unless it was set less than
 * LAST_USED_INTERVAL_MS ago (or the login is gone). Returns whether it wrote.
 */
export function touchLogin(configDir: string, dir: string, now: Date): boolean {
	let touched = false;
	updateLoginConfig(configDir, (config) => {
		const login = config.sessions[dir];
		if (login === undefined || now.getTime() - Date.parse(login.last_used) < LAST_USED_INTERVAL_MS) {
			return undefined;
		}
		touched = true;
		const sessions = { ...config.sessions, [dir]: { ...login, last_used: now.toISOString() } };
		return { ...config, sessions };
	});
	return touched;
}

/** Who a login is for, in words: the email, else the user's id, else that it holds a connection token. */
export function describeLogin(login: SavedLogin): string {
	if (login.user_email !== '') {
		return login.user_email;
	}
	return login.user_id !== '' ? `user ${login.user_id}` : 'the connection token';
}

/**
 * Parses the file's text, checking every member Berth reads; the others are kept as they are.
 * @param path Names the file in messages.
 * @throws BerthError BERTH_ERR_USAGE saying which member is wrong.
 */
export function parseLoginConfig(text: string, path: string): LoginConfig {
	let value: unknown;
	try {
		value = JSON.parse(text);
	} catch (error) {
		throw corrupt(path, `it is not JSON (${errorMessage(error)})`);
	}
	if (!isObject(value)) {
		throw corrupt(path, 'it is not a JSON object');
	}
	const sessions = value['sessions'] ?? {};
	if (!isObject(sessions)) {
		throw corrupt(path, 'sessions is not an object');
	}
	const parsed: Record<string, SavedLogin> = {};
	for (const [dir, entry] of Object.entries(sessions)) {
		if (!isAbsolute(dir) || resolve(dir) !== dir) {
			throw corrupt(path, `sessions has the key ${JSON.stringify(dir)}, which is not an absolute directory`);
		}
		parsed[dir] = parseSavedLogin(entry, `sessions[${JSON.stringify(dir)}]`, path);
	}
	return { ...value, sessions: parsed, preferences: parsePreferences(value['preferences'], path) };
}

/** One entry: every member of the shape, and Berth's optional ones. */
function parseSavedLogin(entry: unknown, where: string, path: string): SavedLogin {
	if (!isObject(entry)) {
		throw corrupt(path, `${where} is not an object`);
	}
	for (const member of [
		'user_id',
		'auth_token',
		'user_email',
		'last_used',
		'backend_url',
		'session_prefix',
	]) {
		if (!isString(entry[member])) {
			throw corrupt(path, `${where}.${member} is missing or not a string`);
		}
	}
	const checks: [string, boolean][] = [
		['auth_token', isClientToken(entry['auth_token'] as string)],
		['last_used', Number.isFinite(Date.parse(entry['last_used'] as string))],
		['backend_url', isAgentUrl(entry['backend_url'] as string)],
		['session_prefix', isSessionPrefix(entry['session_prefix'])],
		['session_name', entry['session_name'] === undefined || isSessionName(entry['session_name'])],
		['agent_key', entry['agent_key'] === undefined || isAgentKeyFingerprint(entry['agent_key'])],
	];
	const bad = checks.find(([, ok]) => !ok);
	if (bad !== undefined) {
		// The value is not shown: it may be a token.
		throw corrupt(path, `${where}.${bad[0]} is not valid`);
	}
	return entry as unknown as SavedLogin;
}

function parsePreferences(value: unknown, path: string): LoginPreferences {
	if (value === undefined) {
		return EMPTY_CONFIG.preferences;
	}
	if (!isObject(value)) {
		throw corrupt(path, 'preferences is not an object');
	}
	const url = value['default_backend_url'] ?? null;
	if (url !== null && !(isString(url) && isAgentUrl(url))) {
		throw corrupt(path, 'preferences.default_backend_url is not an agent URL (ws://HOST:PORT) or null');
	}
	const open = value['auto_open_browser'] ?? false;
	if (!isBoolean(open)) {
		throw corrupt(path, 'preferences.auto_open_browser is not true or false');
	}
	return { ...value, default_backend_url: url, auto_open_browser: open };
}

function isAgentUrl(text: string): boolean {
	try {
		parseAgentUrl(text);
		return true;
	} catch {
		return false;
	}
}

function corrupt(path: string, problem: string): BerthError {
	return new BerthError(
		'BERTH_ERR_USAGE',
		`the saved logins ${path} cannot be read: ${problem}; ${FIX_HINT}`,
	);
}
