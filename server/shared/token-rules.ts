import { isClientToken } from '../../protocol/client-token';
import { CONNECTION_TOKEN_PATTERN } from '../../protocol/constants';
import { BerthError } from '../../protocol/errors';

/**
 * The fewest characters an agent accepts in its own token. The agent slows guessing per source
 * address, but many addresses can guess at once, so a token must be long enough that guessing is
 * hopeless: 16 characters from VS Code's 64-character set (96 bits when random). The token Berth
 * generates is a 36-character UUID, the extension's 43 characters.
 */
export const MIN_AGENT_TOKEN_LENGTH = 16;

/**
 * The most bytes read from a token file or from stdin (16 KiB). A token is far shorter; the room is
 * for the signed user tokens (JWTs) of a later version. Anything longer (`/dev/zero`, a wrong path)
 * is refused before it is held in memory.
 */
export const MAX_TOKEN_BYTES = 16 * 1024;

/** One trailing `\n` or `\r\n` is stripped, as VS Code does with its token file; nothing more. */
export function stripOneNewline(text: string): string {
	if (text.endsWith('\r\n')) {
		return text.slice(0, -2);
	}
	return text.endsWith('\n') ? text.slice(0, -1) : text;
}

/**
 * What is wrong with `token` in words, or undefined when it obeys VS Code's character rule and is
 * at least `minLength` characters long. Pure, for the CLI's messages and for tests.
 */
export function tokenProblem(token: string, minLength = 1): string | undefined {
	if (token === '') {
		return 'it is empty';
	}
	if (!CONNECTION_TOKEN_PATTERN.test(token)) {
		return "use only letters, digits, '-' and '_'";
	}
	if (token.length < minLength) {
		return (
			`it has ${token.length} characters, and an agent needs at least ${minLength}, ` +
			'so that it cannot be guessed (e.g. the output of uuidgen or openssl rand -hex 16)'
		);
	}
	return undefined;
}

/**
 * Returns `token` if it obeys the rules.
 * @param what Names the token's source in the message, e.g. `the token in /path/file`.
 * @throws BerthError BERTH_ERR_TOKEN saying what is wrong and, via `hint`, what to do.
 */
export function checkToken(token: string, what: string, minLength = 1, hint = ''): string {
	const problem = tokenProblem(token, minLength);
	if (problem !== undefined) {
		throw new BerthError('BERTH_ERR_TOKEN', `${what} is not a valid connection token: ${problem}${hint}`);
	}
	return token;
}

/**
 * Returns `token` if a client may present it: a connection token or a signed user token (a JWT's
 * shape, protocol/client-token.ts). Length is the agent's to judge: a VS Code server's token is
 * not Berth's, and a Berth agent refuses a short one itself.
 * @throws BerthError BERTH_ERR_TOKEN saying what is wrong and, via `hint`, what to do.
 */
export function checkClientToken(token: string, what: string, hint = ''): string {
	if (token === '') {
		throw new BerthError('BERTH_ERR_TOKEN', `${what} is not a valid token: it is empty${hint}`);
	}
	if (!isClientToken(token)) {
		throw new BerthError(
			'BERTH_ERR_TOKEN',
			`${what} is not a valid token: a connection token has only letters, digits, '-' and '_', ` +
				`a signed user token three base64url parts joined by '.'${hint}`,
		);
	}
	return token;
}
