import { readFileSync } from 'node:fs';
import { CONNECTION_TOKEN_PATTERN } from '../../protocol/constants';
import { BerthError } from '../../protocol/errors';
import { readTokenFile, stripOneNewline } from '../connection-token';

/** Longest token read from stdin. */
const MAX_STDIN_TOKEN_BYTES = 4096;

export interface ClientTokenSources {
	/** `--token-file`: a path, or '-' for stdin. */
	readonly tokenFile?: string;
	readonly env: NodeJS.ProcessEnv;
	/** For the prompt's wording. */
	readonly agent: string;
}

/**
 * The client's connection token, from (in order) --token-file, $BERTH_TOKEN, or stdin: a pipe is
 * read to its end, a terminal gets a prompt without echo. Never from argv.
 */
export async function readClientToken(sources: ClientTokenSources): Promise<string> {
	if (sources.tokenFile !== undefined && sources.tokenFile !== '-') {
		return readTokenFile(sources.tokenFile);
	}
	if (sources.tokenFile === undefined && sources.env['BERTH_TOKEN']) {
		return check(sources.env['BERTH_TOKEN'], '$BERTH_TOKEN');
	}
	if (sources.tokenFile === undefined && process.stdin.isTTY) {
		return check(await promptHidden(`Connection token for ${sources.agent}: `), 'the token typed');
	}
	return check(stripOneNewline(readStdin()), 'the token on stdin');
}

function check(token: string, what: string): string {
	if (!CONNECTION_TOKEN_PATTERN.test(token)) {
		throw new BerthError(
			'BERTH_ERR_TOKEN',
			`${what} is not a valid connection token (letters, digits, '-' and '_' only)` +
				(token === '' ? ': it is empty. Pass it with --token-file FILE, BERTH_TOKEN, or on stdin' : ''),
		);
	}
	return token;
}

function readStdin(): string {
	try {
		const text = readFileSync(0, 'utf8');
		return text.length > MAX_STDIN_TOKEN_BYTES
			? ''
			: text.split('\n')[0]! + (text.includes('\n') ? '\n' : '');
	} catch {
		return '';
	}
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
				} else if (value.length < MAX_STDIN_TOKEN_BYTES) {
					value += ch;
				}
			}
		};
		stdin.on('data', onData);
	});
}
