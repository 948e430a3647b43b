import { randomUUID } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { CONNECTION_TOKEN_PATTERN } from '../protocol/constants';
import { BerthError } from '../protocol/errors';
import { safeEqual } from './shared/sign';

/**
 * The agent's connection token, by VS Code's rules (serverConnectionToken.ts): none (anything is
 * accepted), or mandatory (strict equality). `source` says where it came from, for the banner.
 */
export type ConnectionToken =
	| { readonly type: 'none' }
	| {
			readonly type: 'mandatory';
			readonly value: string;
			readonly source: TokenSource;
			readonly path?: string;
	  };

export type TokenSource = 'flag' | 'file' | 'stored' | 'generated';

export interface TokenFlags {
	readonly connectionToken?: string;
	readonly connectionTokenFile?: string;
	readonly withoutConnectionToken?: boolean;
	/** Berth's config folder, where a generated token is kept. */
	readonly configDir: string;
}

/** Where Berth keeps its files: $BERTH_CONFIG_DIR, else $XDG_CONFIG_HOME/berth, else ~/.config/berth. */
export function defaultConfigDir(env: NodeJS.ProcessEnv = process.env): string {
	if (env['BERTH_CONFIG_DIR']) {
		return env['BERTH_CONFIG_DIR'];
	}
	const base = env['XDG_CONFIG_HOME'] || join(homedir(), '.config');
	return join(base, 'berth');
}

/**
 * Resolves the token from the server's flags.
 * @throws BerthError BERTH_ERR_USAGE for conflicting flags, BERTH_ERR_TOKEN for a token that
 * breaks the character rule or a file that cannot be read. Messages say what to fix.
 */
export function resolveConnectionToken(flags: TokenFlags): ConnectionToken {
	if (flags.withoutConnectionToken) {
		if (flags.connectionToken !== undefined || flags.connectionTokenFile !== undefined) {
			throw new BerthError(
				'BERTH_ERR_USAGE',
				'--without-connection-token cannot be combined with --connection-token or --connection-token-file: choose one',
			);
		}
		return { type: 'none' };
	}
	if (flags.connectionToken !== undefined && flags.connectionTokenFile !== undefined) {
		throw new BerthError(
			'BERTH_ERR_USAGE',
			'--connection-token and --connection-token-file cannot be combined: pass the token one way',
		);
	}
	if (flags.connectionToken !== undefined) {
		return {
			type: 'mandatory',
			value: checkToken(flags.connectionToken, '--connection-token'),
			source: 'flag',
		};
	}
	if (flags.connectionTokenFile !== undefined) {
		const path = flags.connectionTokenFile;
		return { type: 'mandatory', value: readTokenFile(path), source: 'file', path };
	}
	return loadOrCreateStoredToken(join(flags.configDir, 'token'));
}

/** Reads a token file: one trailing `\n` or `\r\n` is stripped, and the rest must obey the rule. */
export function readTokenFile(path: string): string {
	let text: string;
	try {
		text = readFileSync(path, 'utf8');
	} catch (error) {
		throw new BerthError(
			'BERTH_ERR_TOKEN',
			`cannot read the connection token file ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
			undefined,
			{ cause: error },
		);
	}
	return checkToken(stripOneNewline(text), `the token in ${path}`);
}

export function stripOneNewline(text: string): string {
	if (text.endsWith('\r\n')) {
		return text.slice(0, -2);
	}
	return text.endsWith('\n') ? text.slice(0, -1) : text;
}

function checkToken(token: string, what: string): string {
	if (!CONNECTION_TOKEN_PATTERN.test(token)) {
		throw new BerthError(
			'BERTH_ERR_TOKEN',
			`${what} is not a valid connection token: use only letters, digits, '-' and '_', at least one character`,
		);
	}
	return token;
}

/** Reuses the token stored at `path`, or generates a UUID and stores it with mode 0600. */
function loadOrCreateStoredToken(path: string): ConnectionToken {
	try {
		const token = checkToken(stripOneNewline(readFileSync(path, 'utf8')), 'stored');
		if ((statSync(path).mode & 0o077) !== 0) {
			chmodSync(path, 0o600); // a token readable by others is not a secret
		}
		return { type: 'mandatory', value: token, source: 'stored', path };
	} catch {
		// Missing or broken: make a new one (VS Code does the same with <user-data-dir>/token).
	}
	const token = randomUUID();
	writeSecretFile(path, token + '\n');
	return { type: 'mandatory', value: token, source: 'generated', path };
}

/** Writes a file only its owner can read (0600), in a folder only its owner can enter (0700). */
export function writeSecretFile(path: string, contents: string): void {
	mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
	const temporary = `${path}.${process.pid}.tmp`;
	writeFileSync(temporary, contents, { mode: 0o600 });
	chmodSync(temporary, 0o600); // the umask cannot loosen it, but an existing file keeps its mode
	renameSync(temporary, path);
}

/** Constant-time string comparison, for tokens and signatures. */
/** Whether `candidate` is accepted by `token` (anything is, when there is none). */
export function tokenAccepts(token: ConnectionToken, candidate: string | undefined): boolean {
	return token.type === 'none' || (candidate !== undefined && safeEqual(token.value, candidate));
}
