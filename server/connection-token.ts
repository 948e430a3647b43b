import { BerthError } from '../protocol/errors';
import { readTokenFile } from './shared/read-token-file';
import { safeEqual } from './shared/sign';
import { checkToken, MIN_AGENT_TOKEN_LENGTH, stripOneNewline } from './shared/token-rules';
import { loadOrCreateStoredToken } from './stored-token';

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
	/** Receives what the user should know about a token file (a link, a loose mode), one line each. */
	readonly warn?: (message: string) => void;
}

// The client's saved logins live there too, so the rule is in shared/ (the client may not import this file).
export { defaultConfigDir } from './shared/config-dir';

/**
 * Resolves the token from the server's flags. Every token the agent accepts obeys VS Code's
 * character rule and has at least MIN_AGENT_TOKEN_LENGTH characters.
 * @throws BerthError BERTH_ERR_USAGE for conflicting flags, BERTH_ERR_TOKEN for a token that
 * breaks the rules, or a file that cannot be read, is too long, or (the stored one) is a link or
 * broken. Messages say what to fix.
 */
export function resolveConnectionToken(flags: TokenFlags): ConnectionToken {
	const warn = flags.warn ?? (() => undefined);
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
			value: checkToken(flags.connectionToken, '--connection-token', MIN_AGENT_TOKEN_LENGTH),
			source: 'flag',
		};
	}
	if (flags.connectionTokenFile !== undefined) {
		const path = flags.connectionTokenFile;
		return { type: 'mandatory', value: readAgentTokenFile(path, warn), source: 'file', path };
	}
	const stored = loadOrCreateStoredToken(flags.configDir, warn);
	const source = stored.generated ? 'generated' : 'stored';
	return { type: 'mandatory', value: stored.value, source, path: stored.path };
}

/** The agent's token from a file the user named: bounded, its links and loose modes warned about. */
function readAgentTokenFile(path: string, warn: (message: string) => void): string {
	const what = `--connection-token-file ${path}`;
	const { text, warnings } = readTokenFile(path, { what });
	warnings.forEach(warn);
	return checkToken(stripOneNewline(text), `the token in ${path}`, MIN_AGENT_TOKEN_LENGTH);
}

/** Whether `candidate` is accepted by `token` (anything is, when there is none). */
export function tokenAccepts(token: ConnectionToken, candidate: string | undefined): boolean {
	return token.type === 'none' || (candidate !== undefined && safeEqual(token.value, candidate));
}
