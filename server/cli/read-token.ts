import { BerthError } from '../../protocol/errors';
import { readTokenFile } from '../shared/read-token-file';
import { checkClientToken, MAX_TOKEN_BYTES, stripOneNewline } from '../shared/token-rules';
import { readFirstLine } from './read-first-line';

/** Where a client's token came from, in the lookup order of every client command. */
export type TokenSource = 'token-file' | 'stdin' | 'env' | 'saved-login' | 'prompt';

/** A client's token and, in words, where it came from (for the one line that says so). */
export interface ClientToken {
	/** Never logged. */
	readonly token: string;
	readonly source: TokenSource;
	/** `the token in /path`, `$BERTH_TOKEN`, `the login saved for /dir (alice@example.com)` … */
	readonly description: string;
}

export interface ExplicitTokenSources {
	/** `--token-file`: a path, or '-' for stdin. */
	readonly tokenFile?: string;
	readonly env: NodeJS.ProcessEnv;
	/** Receives what the user should know about the token file (a link, a loose mode). */
	readonly warn: (message: string) => void;
}

/**
 * The token the user gave for this command: `--token-file` (`-`: the first line of stdin), else
 * $BERTH_TOKEN; undefined when neither. Files and stdin are read with a bound (MAX_TOKEN_BYTES).
 * Only the shape is checked (a connection token or a signed user token): a VS Code server's token
 * is not Berth's to judge, and a Berth agent refuses a short one itself.
 * @throws BerthError BERTH_ERR_TOKEN for an unreadable, too long or invalid token.
 */
export async function readExplicitToken(sources: ExplicitTokenSources): Promise<ClientToken | undefined> {
	const path = sources.tokenFile;
	if (path === '-') {
		const line = await readFirstLine(process.stdin, MAX_TOKEN_BYTES, 'stdin');
		return {
			token: checkRead(line, 'the token on stdin'),
			source: 'stdin',
			description: 'the token on stdin',
		};
	}
	if (path !== undefined) {
		const { text, warnings } = readTokenFile(path, { what: `--token-file ${path}` });
		warnings.forEach(sources.warn);
		const token = checkRead(text, `the token in ${path}`);
		return { token, source: 'token-file', description: `the token in ${path}` };
	}
	const fromEnv = sources.env['BERTH_TOKEN'];
	if (fromEnv) {
		return { token: checkClientToken(fromEnv, '$BERTH_TOKEN'), source: 'env', description: '$BERTH_TOKEN' };
	}
	return undefined;
}

/**
 * The last resort, once no flag, variable or saved login gave a token: a prompt without echo when
 * stdin is a terminal; else the first line of stdin, however slowly it comes (`ssh host cat
 * .config/berth/token | berth forward …`, as before logins existed).
 * @param agent The agent, for the prompt's wording.
 * @param missing The error when nothing comes (empty input): it says how to get credentials.
 * @throws BerthError BERTH_ERR_TOKEN: `missing`, or a token that is too long or invalid.
 */
export async function readTokenFromUser(agent: string, missing: BerthError): Promise<ClientToken> {
	if (process.stdin.isTTY) {
		const typed = await promptHidden(`Token for ${agent}: `);
		if (typed === '') {
			throw missing;
		}
		return {
			token: checkClientToken(typed, 'the token typed'),
			source: 'prompt',
			description: 'the token typed',
		};
	}
	const line = stripOneNewline(await readFirstLine(process.stdin, MAX_TOKEN_BYTES, 'stdin'));
	if (line === '') {
		throw missing;
	}
	return {
		token: checkClientToken(line, 'the token on stdin'),
		source: 'stdin',
		description: 'the token on stdin',
	};
}

/** The shape rule on what was read, less one newline; an empty read says where a token may come from. */
function checkRead(text: string, what: string): string {
	const token = stripOneNewline(text);
	return checkClientToken(
		token,
		what,
		token === '' ? '. Pass it with --token-file FILE, BERTH_TOKEN, or on stdin' : '',
	);
}

/** Reads one line from the terminal without echoing it. */
export function promptHidden(prompt: string): Promise<string> {
	return new Promise((resolve) => {
		const stdin = process.stdin;
		process.stderr.write(prompt);
		stdin.setRawMode(true);
		stdin.resume();
		stdin.setEncoding('utf8');
		let value = '';
		const onData = (chunk: string): void => {
			for (const ch of chunk) {
				if (ch === '\r' || ch === '\n' || ch === '\u0004') {
					stdin.setRawMode(false);
					stdin.pause();
					stdin.off('data', onData);
					process.stderr.write('\n');
					resolve(value);
					return;
				}
				if (ch === '\u0003') {
					process.stderr.write('\n');
					process.exit(130);
				}
				if (ch === '\u007f' || ch === '\b') {
					value = value.slice(0, -1);
				} else if (value.length < MAX_TOKEN_BYTES) {
					value += ch;
				}
			}
		};
		stdin.on('data', onData);
	});
}
