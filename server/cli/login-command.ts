import { hostname } from 'node:os';
import { RECONNECT_ATTEMPT_TIMEOUT_MS } from '../../protocol/constants';
import { BerthError } from '../../protocol/errors';
import { MAX_INIT_URL_CHARS, parseInitArgument, type InitArgument } from '../../protocol/init-url';
import { defaultSessionName } from '../../protocol/session-name';
import { isSameAgent, parseAgentUrl, type AgentAddress } from '../client/agent-url';
import { checkAgentAcceptsToken } from '../client/check-token';
import { describeLogin, readLoginConfig, saveLogin, type SavedLogin } from '../client/login-config';
import type { TransportMode } from '../client/open-transport';
import { readTokenClaims, type TokenClaims } from '../client/token-claims';
import { defaultConfigDir } from '../shared/config-dir';
import { createLogger, type Logger } from '../shared/log';
import { stripOneNewline } from '../shared/token-rules';
import { createNodeTimers } from '../shared/transport/node-timers';
import { BERTH_COMMIT } from '../shared/version';
import { COMMON_OPTIONS, parseChoice, parseFlags, parseLogFlags, parseSecondsFlag } from './args';
import { checkSessionNameFlag } from './client-credentials';
import { ExitCode, exitCodeFor } from './exit-codes';
import { LOGIN_HELP } from './help';
import { readFirstLine } from './read-first-line';
import { promptHidden } from './read-token';

const TRANSPORT_MODES: readonly TransportMode[] = ['auto', 'tcp', 'websocket'];

type LoginValues = ReturnType<typeof parseLoginFlags>;

function parseLoginFlags(argv: string[]) {
	return parseFlags('login', argv, {
		...COMMON_OPTIONS,
		init: { type: 'string' },
		url: { type: 'string', short: 'u' },
		'session-name': { type: 'string' },
		reauth: { type: 'boolean' },
		transport: { type: 'string' },
		'skip-commit-check': { type: 'boolean' },
		'connect-timeout': { type: 'string' },
	});
}

/**
 * `berth login --init URL|TOKEN`: checks the token against its agent (one connection through the
 * whole handshake), then saves it for the working directory (and the folders below it) in
 * `<config dir>/config.json`, so that client commands run there need neither -u nor a token.
 * Nothing is saved unless the agent accepted the token.
 */
export async function runLoginCommand(argv: string[]): Promise<number> {
	const values = parseLoginFlags(argv);
	if (values.help) {
		process.stdout.write(LOGIN_HELP);
		return ExitCode.Ok;
	}
	const log = createLogger({ ...parseLogFlags(values), timers: createNodeTimers() });
	try {
		return await login(values, log);
	} finally {
		log.dispose();
	}
}

async function login(values: LoginValues, log: Logger): Promise<number> {
	checkSessionNameFlag(values['session-name']);
	const configDir = defaultConfigDir();
	const dir = process.cwd();
	const init = await readInitArgument(values.init, log);
	const address = agentOf(init, values.url, configDir);
	const token = init.kind === 'url' ? init.value.token : init.token;
	const claims = claimsOf(token);
	const existing = readLoginConfig(configDir, (message) => log.warn(message)).sessions[dir];
	if (existing !== undefined && !values.reauth) {
		throw new BerthError(
			'BERTH_ERR_USAGE',
			`login: a login is already saved for ${dir} (${describeLogin(existing)}, ` +
				`${existing.backend_url}): add --reauth to replace it, or run berth logout first`,
		);
	}
	const prefix = init.kind === 'url' ? init.value.sessionPrefix : '';
	const sessionName = values['session-name'] ?? defaultSessionName(prefix, hostname());
	const pin = init.kind === 'url' ? init.value.agentKey : undefined;
	await checkToken(values, address, token, sessionName, pin);
	const entry: SavedLogin = {
		user_id: claims.userId,
		auth_token: token,
		user_email: claims.email,
		last_used: new Date().toISOString(),
		backend_url: address.display,
		session_prefix: prefix,
		...(values['session-name'] !== undefined ? { session_name: values['session-name'] } : {}),
		...(init.kind === 'url' && init.value.agentKey !== undefined ? { agent_key: init.value.agentKey } : {}),
	};
	saveLogin(configDir, dir, entry, values.reauth === true);
	process.stdout.write(savedMessage(entry, address, dir));
	return ExitCode.Ok;
}

/**
 * `--init`'s value, parsed: from argv (with a warning: argv is public on the host and kept in
 * shell history), or with `--init -` from stdin (a prompt without echo on a terminal).
 */
async function readInitArgument(value: string | undefined, log: Logger): Promise<InitArgument> {
	if (value === undefined) {
		throw new BerthError(
			'BERTH_ERR_USAGE',
			'login: --init URL is required: the init URL the agent gave you (or a token, with -u URL); ' +
				'--init - reads it from stdin',
		);
	}
	const fromStdin = value === '-';
	let text = value;
	if (fromStdin) {
		text = process.stdin.isTTY
			? await promptHidden('Init URL (or token): ')
			: stripOneNewline(await readFirstLine(process.stdin, MAX_INIT_URL_CHARS + 2, 'stdin'));
	}
	const parsed = parseInitArgument(text);
	if (!parsed.ok) {
		throw new BerthError('BERTH_ERR_USAGE', `login --init: ${parsed.message}`);
	}
	if (!fromStdin) {
		log.warn(
			"--init's value holds your token, and the command line is visible to other users of this host " +
				'and kept in shell history: berth login --init - reads it from stdin instead',
		);
	}
	return parsed.value;
}

/** The agent: the init URL's origin (-u, if given too, must name it), or -u / the default preference for a bare token. */
function agentOf(init: InitArgument, url: string | undefined, configDir: string): AgentAddress {
	const flag = url !== undefined ? parseAgentUrl(url) : undefined;
	if (init.kind === 'url') {
		const fromInit = parseAgentUrl(init.value.agentUrl);
		if (flag && !isSameAgent(flag, fromInit)) {
			throw new BerthError(
				'BERTH_ERR_USAGE',
				`login: -u names ${flag.display}, but the init URL is for ${fromInit.display}: leave out -u`,
			);
		}
		return fromInit;
	}
	if (flag) {
		return flag;
	}
	const preferred = readLoginConfig(configDir).preferences.default_backend_url;
	if (preferred === null) {
		throw new BerthError(
			'BERTH_ERR_USAGE',
			'login: a bare token needs its agent: give -u URL (an init URL carries it)',
		);
	}
	return parseAgentUrl(preferred);
}

/** The user the token names (for the file and the message), its problem named as --init's. */
function claimsOf(token: string): TokenClaims {
	try {
		return readTokenClaims(token);
	} catch (error) {
		throw error instanceof BerthError
			? new BerthError(error.code, `login --init: ${error.message}`, error.reason, { cause: error })
			: error;
	}
}

/** One connection through the handshake; a refusal or failure says that nothing was saved. */
async function checkToken(
	values: LoginValues,
	address: AgentAddress,
	token: string,
	sessionName: string,
	agentKeyPin: string | undefined,
): Promise<void> {
	const connectTimeoutS = parseSecondsFlag(
		'--connect-timeout',
		values['connect-timeout'],
		RECONNECT_ATTEMPT_TIMEOUT_MS / 1000,
		1,
	);
	try {
		await checkAgentAcceptsToken({
			address,
			token,
			mode: parseChoice('--transport', values.transport, TRANSPORT_MODES, 'auto'),
			peer: 'berth',
			timers: createNodeTimers(),
			connectTimeoutMs: connectTimeoutS * 1000,
			clientName: `berth login on ${hostname()}`,
			sessionName,
			...(agentKeyPin !== undefined ? { agentKeyPin } : {}),
			...(values['skip-commit-check'] ? {} : { commit: BERTH_COMMIT }),
		});
	} catch (error) {
		if (!(error instanceof BerthError)) {
			throw error;
		}
		const what =
			exitCodeFor(error) === ExitCode.Refused
				? `${address.display} did not accept the token`
				: `${address.display} could not be reached`;
		throw new BerthError(error.code, `login: ${what}, so nothing was saved: ${error.message}`, error.reason, {
			cause: error,
		});
	}
}

function savedMessage(login: SavedLogin, address: AgentAddress, dir: string): string {
	return (
		`✓ Configuration saved for ${describeLogin(login)}\n` +
		`  Backend: ${address.display}\n` +
		`  Directory: ${dir} (and the folders below it): berth commands run there need no -u and no token\n`
	);
}
