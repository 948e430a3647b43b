import { readTokenFile } from '../shared/read-token-file';
import { checkToken, MAX_TOKEN_BYTES, stripOneNewline } from '../shared/token-rules';
import { readFirstLine } from './read-first-line';

const EMPTY_HINT = '. Pass it with --token-file FILE, BERTH_TOKEN, or on stdin';

export interface ClientTokenSources {
	/** `--token-file`: a path, or '-' for stdin. */
	readonly tokenFile?: string;
	readonly env: NodeJS.ProcessEnv;
	/** For the prompt's wording. */
	readonly agent: string;
	/** Receives what the user should know about the token file (a link, a loose mode). */
	readonly warn: (message: string) => void;
}

/**
 * The client's connection token, from (in order) --token-file, $BERTH_TOKEN, or stdin: a pipe is
 * read asynchronously to its first newline or its end, a terminal gets a prompt without echo.
 * Never from argv. Files and stdin are read with a bound (MAX_TOKEN_BYTES). The client applies
 * only the character rule, not the agent's minimum length: a VS Code server's token is not
 * Berth's to judge, and a Berth agent refuses a short one itself.
 * @throws BerthError BERTH_ERR_TOKEN for a missing, unreadable, too long or invalid token.
 */
export async function readClientToken(sources: ClientTokenSources): Promise<string> {
	if (sources.tokenFile !== undefined && sources.tokenFile !== '-') {
		const path = sources.tokenFile;
		const { text, warnings } = readTokenFile(path, { what: `--token-file ${path}` });
		warnings.forEach(sources.warn);
		return checkRead(text, `the token in ${path}`);
	}
	if (sources.tokenFile === undefined && sources.env['BERTH_TOKEN']) {
		return checkToken(sources.env['BERTH_TOKEN'], '$BERTH_TOKEN');
	}
	if (sources.tokenFile === undefined && process.stdin.isTTY) {
		return checkToken(await promptHidden(`Connection token for ${sources.agent}: `), 'the token typed');
	}
	const line = await readFirstLine(process.stdin, MAX_TOKEN_BYTES, 'stdin');
	return checkRead(line, 'the token on stdin');
}

/** The character rule on what was read, less one newline; an empty read says where a token may come from. */
function checkRead(text: string, what: string): string {
	const token = stripOneNewline(text);
	return checkToken(token, what, 1, token === '' ? EMPTY_HINT : '');
}

/** Reads one line from the terminal without echoing it. */
function promptHidden(prompt: string): Promise<string> {
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
