import { spawn } from 'node:child_process';
import { hostname } from 'node:os';
import { RECONNECT_ATTEMPT_TIMEOUT_MS } from '../../protocol/constants';
import { BerthError } from '../../protocol/errors';
import { MAX_INIT_URL_CHARS, parseInitArgument, type InitArgument } from '../../protocol/init-url';
import { defaultSessionName } from '../../protocol/session-name';
import { isSameAgent, parseAgentUrl, type AgentAddress } from '../client/agent-url';
import { checkAgentAcceptsToken } from '../client/check-token';
import { runDeviceLogin } from '../client/device-login';
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
import { readClientTls } from './read-client-tls';

const TRANSPORT_MODES: readonly TransportMode[] = ['auto', 'tcp', 'websocket'];

type LoginValues = ReturnType<typeof parseLoginFlags>;

function parseLoginFlags(argv: string[]) {
	return parseFlags('login', argv, {
		...COMMON_OPTIONS,
		init: { type: 'string' },
		server: { type: 'string' },
		url: { type: 'string', short: 'u' },
		'ca-file': { type: 'string' },
		insecure: { type: 'boolean' },
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
	if (values.server !== undefined && values.init !== undefined) {
		throw new BerthError(
			'BERTH_ERR_USAGE',
			'login: --init (a token you have) or --server (sign in for one), not both',
		);
	}
	refuseExisting(configDir, dir, values, log);
	const got =
		values.server !== undefined
			? await signIn(values, values.server, configDir, log)
			: await fromInit(values, configDir, log);
	const { address, token, prefix, pin } = got;
	const claims = claimsOf(token);
	const sessionName = values['session-name'] ?? defaultSessionName(prefix, hostname());
	await checkToken(values, address, token, sessionName, pin, log);
	const entry: SavedLogin = {
		user_id: claims.userId,
		auth_token: token,
		user_email: claims.email,
		last_used: new Date().toISOString(),
		backend_url: address.display,
		session_prefix: prefix,
		...(values['session-name'] !== undefined ? { session_name: values['session-name'] } : {}),
		...(pin !== undefined ? { agent_key: pin } : {}),
	};
	saveLogin(configDir, dir, entry, values.reauth === true);
	process.stdout.write(savedMessage(entry, address, dir));
	return ExitCode.Ok;
}

/** What a login saves, however it was had. */
interface Obtained {
	readonly address: AgentAddress;
	readonly token: string;
	/** The session-name prefix (an init URL's `n`). */
	readonly prefix: string;
	/** The agent key's fingerprint to pin (an init URL's `k`, the device poll's `agent_key`). */
	readonly pin?: string;
}

/** An existing login here is replaced only with --reauth. */
function refuseExisting(configDir: string, dir: string, values: LoginValues, log: Logger): void {
	const existing = readLoginConfig(configDir, (message) => log.warn(message)).sessions[dir];
	if (existing !== undefined && !values.reauth) {
		throw new BerthError(
			'BERTH_ERR_USAGE',
			`login: a login is already saved for ${dir} (${describeLogin(existing)}, ` +
				`${existing.backend_url}): add --reauth to replace it, or run berth logout first`,
		);
	}
}

async function fromInit(values: LoginValues, configDir: string, log: Logger): Promise<Obtained> {
	const init = await readInitArgument(values.init, log);
	const address = agentOf(init, values.url, configDir);
	if (init.kind === 'token') {
		return { address, token: init.token, prefix: '' };
	}
	const { token, sessionPrefix, agentKey } = init.value;
	return { address, token, prefix: sessionPrefix, ...(agentKey !== undefined ? { pin: agentKey } : {}) };
}

/**
 * `--server URL`: the device flow. The code and where to enter it go to stderr in the seed's box;
 * the browser opens when the saved preferences say `auto_open_browser`.
 */
async function signIn(
	values: LoginValues,
	server: string,
	configDir: string,
	log: Logger,
): Promise<Obtained> {
	const address = parseAgentUrl(server);
	const tls = readClientTls({
		caFile: values['ca-file'],
		insecure: values.insecure,
		address,
		warn: (message) => log.debug(message), // warned once, when the token is checked
	});
	const openBrowser = readLoginConfig(configDir).preferences.auto_open_browser;
	const timers = createNodeTimers();
	const { token, email, agentKey } = await runDeviceLogin({
		address,
		sessionName: values['session-name'] ?? defaultSessionName('', hostname()),
		...(tls ? { tls } : {}),
		timers,
		show: (code) => {
			process.stderr.write(deviceBox(code.verificationUri, code.userCode));
			if (openBrowser) {
				openInBrowser(code.verificationUriComplete ?? code.verificationUri, log);
			}
		},
	});
	log.info(`signed in as ${email}`);
	return { address, token, prefix: '', ...(agentKey !== undefined ? { pin: agentKey } : {}) };
}

/** The seed's box: where to go, and the code to enter. */
export function deviceBox(uri: string, userCode: string): string {
	const lines = ['To authenticate, visit:', `  ${uri}`, '', `And enter code: ${userCode}`];
	const width = Math.max(...lines.map((l) => l.length)) + 2;
	const row = (text: string) => `│ ${text.padEnd(width - 2)} │`;
	return ['', `┌${'─'.repeat(width)}┐`, ...lines.map(row), `└${'─'.repeat(width)}┘`, '', ''].join('\n');
}

/** Opens a URL with the desktop's opener; a failure only says so (the box already shows the URL). */
function openInBrowser(url: string, log: Logger): void {
	const opener =
		process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open';
	const child = spawn(opener, [url], { stdio: 'ignore', detached: true });
	child.on('error', (error) => log.info(`could not open a browser (${error.message}): open the URL above`));
	child.unref();
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
	log: Logger,
): Promise<void> {
	const tls = readClientTls({
		caFile: values['ca-file'],
		insecure: values.insecure,
		address,
		warn: (message) => log.warn(message),
	});
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
			...(tls ? { tls } : {}),
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
