import { BerthError } from '../../protocol/errors';
import { readTokenFile } from '../shared/read-token-file';
import { checkToken, MIN_AGENT_TOKEN_LENGTH, stripOneNewline } from '../shared/token-rules';
import { COMMON_OPTIONS, parseFlags } from './args';
import { ExitCode } from './exit-codes';
import { runForward } from './forward-command';
import { CLIENT_HELP } from './help';

/** The proxy port of `berth client` when -p is not given (LinkSocks's and ssh users' habit). */
const DEFAULT_CLIENT_PROXY_PORT = 1080;

/**
 * `berth client` (LinkSocks's forward mode): a SOCKS5 + HTTP proxy here whose traffic leaves from
 * the agent. It is `berth forward -D` under LinkSocks's name and flags (-p is the proxy port).
 */
export async function runClientCommand(argv: string[], role: { connector?: boolean } = {}): Promise<number> {
	const values = parseFlags('client', argv, {
		...COMMON_OPTIONS,
		url: { type: 'string', short: 'u' },
		port: { type: 'string', short: 'p' },
		host: { type: 'string' },
		reverse: { type: 'boolean', short: 'r' },
		name: { type: 'string' },
		'connector-token-file': { type: 'string', multiple: true },
		n: { type: 'string' },
		w: { type: 'string' },
		'socks-password-file': { type: 'string' },
		'token-file': { type: 'string' },
		'no-token': { type: 'boolean' },
		'session-name': { type: 'string' },
		transport: { type: 'string' },
		'skip-commit-check': { type: 'boolean' },
		'connect-timeout': { type: 'string' },
		upstream: { type: 'string' },
		'ca-file': { type: 'string' },
		dev: { type: 'boolean' },
		insecure: { type: 'boolean' },
	});
	if (values.help) {
		process.stdout.write(CLIENT_HELP);
		return ExitCode.Ok;
	}
	const { port, host, reverse, name, 'connector-token-file': connectorTokenFiles, ...rest } = values;
	if (reverse) {
		if (port !== undefined || host !== undefined) {
			throw new BerthError(
				'BERTH_ERR_USAGE',
				"client -r: the proxy port is the agent's (berth server -r --socks-port): leave out -p and --host",
			);
		}
		const connectorTokens = (connectorTokenFiles ?? []).map(readConnectorTokenFile);
		return runForward(rest, { provide: { ...(name === undefined ? {} : { name }), connectorTokens } });
	}
	if (connectorTokenFiles !== undefined) {
		throw new BerthError(
			'BERTH_ERR_USAGE',
			'client: --connector-token-file declares connector tokens of a provider: it goes with -r (berth provider)',
		);
	}
	if (name !== undefined) {
		throw new BerthError('BERTH_ERR_USAGE', 'client: --name names a provider: it goes with -r');
	}
	const bind = host === undefined ? '' : host.includes(':') ? `[${host}]:` : `${host}:`;
	return runForward({ ...rest, D: [`${bind}${port ?? DEFAULT_CLIENT_PROXY_PORT}`] }, role);
}

/** A connector token a provider declares (autonomy mode), from its file, checked as agents check tokens. */
function readConnectorTokenFile(path: string): string {
	const what = `--connector-token-file ${path}`;
	const { text } = readTokenFile(path, { what });
	return checkToken(stripOneNewline(text), what, MIN_AGENT_TOKEN_LENGTH);
}
