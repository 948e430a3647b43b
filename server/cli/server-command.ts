import { Agent } from '../agent';
import { formatListeningLine } from '../../protocol/listening-line';
import { defaultConfigDir, resolveConnectionToken, type ConnectionToken } from '../connection-token';
import { createLogger, type Logger } from '../shared/log';
import type { Timers } from '../../protocol/timers';
import { TargetPolicy } from '../shared/target-policy';
import { ProviderPool } from '../forward/provider-pool';
import { ProxyListener } from '../shared/proxy/proxy-listener';
import { formatHostPort } from '../../protocol/host-port';
import { readProxyCredentials } from './read-proxy-credentials';
import { readUpstream } from './read-upstream';
import { ConnectorTokens } from '../connector-tokens';
import { BerthError } from '../../protocol/errors';
import { readTokenFile } from '../shared/read-token-file';
import { stripOneNewline } from '../shared/token-rules';
import { createNodeTimers } from '../shared/transport/node-timers';
import { BERTH_COMMIT, BERTH_VERSION } from '../shared/version';
import { COMMON_OPTIONS, parseFlags, parseLogFlags, parsePortFlag, parseSecondsFlag } from './args';
import { ExitCode } from './exit-codes';
import { SERVER_HELP } from './help';
import { statusPageLine } from './status-page-line';
import { waitForStopSignal } from './signals';
import { installCrashGuard } from './crash-guard';
import { printUsersBanner, startUsers } from './start-users';
import { readTlsCredentials } from './read-tls-credentials';
import { isLoopbackHost } from '../http/host-check';

const DEFAULT_PORT = 8765;
const DEFAULT_HOST = '127.0.0.1';
const DEFAULT_GRACE_S = 10_800;

/** `berth server`: resolves flags into an AgentConfig, starts the agent, stops it on a signal. */
export async function runServerCommand(argv: string[]): Promise<number> {
	const values = parseServerFlags(argv);
	if (values.help) {
		process.stdout.write(SERVER_HELP);
		return ExitCode.Ok;
	}
	const timers = createNodeTimers();
	const log = createLogger({ ...parseLogFlags(values), timers });
	try {
		return await serve(values, log, timers);
	} finally {
		log.dispose(); // the summaries of repeated lines still pending
	}
}

function parseServerFlags(argv: string[]) {
	return parseFlags('server', argv, {
		...COMMON_OPTIONS,
		host: { type: 'string' },
		port: { type: 'string' },
		'connection-token': { type: 'string' },
		'connection-token-file': { type: 'string' },
		'without-connection-token': { type: 'boolean' },
		'reconnection-grace-time': { type: 'string' },
		allow: { type: 'string', multiple: true },
		deny: { type: 'string', multiple: true },
		'allow-remote-bind': { type: 'boolean' },
		reverse: { type: 'boolean', short: 'r' },
		autonomy: { type: 'boolean', short: 'a' },
		'socks-port': { type: 'string' },
		'socks-host': { type: 'string' },
		n: { type: 'string' },
		w: { type: 'string' },
		'socks-password-file': { type: 'string' },
		'connector-token-file': { type: 'string', multiple: true },
		upstream: { type: 'string' },
		c: { type: 'string', multiple: true },
		accounts: { type: 'boolean' },
		'jwt-secret-file': { type: 'string' },
		db: { type: 'string' },
		'dev-mode': { type: 'boolean' },
		'owner-email': { type: 'string' },
		'tls-cert': { type: 'string' },
		'tls-key': { type: 'string' },
		'oidc-issuer': { type: 'string' },
		'oidc-client-id': { type: 'string' },
		'oidc-client-secret-file': { type: 'string' },
		'allow-email': { type: 'string', multiple: true },
		'public-url': { type: 'string' },
	});
}

/** The command once its logger is up: starts the agent, stops it on a signal. */
async function serve(
	values: ReturnType<typeof parseServerFlags>,
	log: Logger,
	timers: Timers,
): Promise<number> {
	const crashGuard = installCrashGuard(log);
	const host = values.host ?? DEFAULT_HOST;
	const port = parsePortFlag('--port', values.port, DEFAULT_PORT);
	const graceSeconds = parseSecondsFlag(
		'--reconnection-grace-time',
		values['reconnection-grace-time'],
		DEFAULT_GRACE_S,
	);
	const policy = TargetPolicy.parse(values.allow ?? [], values.deny ?? []);
	const token = resolveConnectionToken({
		connectionToken: values['connection-token'],
		connectionTokenFile: values['connection-token-file'],
		withoutConnectionToken: values['without-connection-token'],
		configDir: defaultConfigDir(),
		warn: (message) => log.warn(message),
	});
	if (token.type === 'mandatory' && token.source === 'flag') {
		log.warn(
			'--connection-token puts the token in the process list, where every user of this host can read it: prefer --connection-token-file',
		);
	}
	if (token.type === 'none') {
		log.warn('running without a connection token: anyone who can reach this port can use the agent');
	}
	const tls = readTlsCredentials({
		certFile: values['tls-cert'],
		keyFile: values['tls-key'],
		warn: (message) => log.warn(message),
		now: new Date(),
	});
	if (!tls && !isLoopbackHost(host)) {
		log.warn(
			`listening on ${host} without TLS: tokens and traffic cross the network in clear; ` +
				'serve TLS with --tls-cert and --tls-key, or listen on 127.0.0.1 and reach the agent through an SSH tunnel',
		);
	}

	// The proxy port first: a port that cannot be had stops the start before the agent listens.
	if (values.autonomy && !values.reverse) {
		throw new BerthError('BERTH_ERR_USAGE', '-a (autonomy) goes with -r: providers and their connectors');
	}
	// Autonomy: the providers' connectors are the only way in; the agent's own proxy port stays closed.
	const reverse = values.reverse && !values.autonomy ? startReverseProxy(values, log, timers) : undefined;
	const proxy = await reverse?.listening;
	const providers =
		reverse?.providers ?? (values.autonomy ? new ProviderPool(timers, log.fork('providers')) : undefined);
	const connectorTokens = readConnectorTokens(values, token, log);
	const users = await startUsers(values, host, log, timers);
	const agent = await Agent.start({
		host,
		port,
		token,
		version: BERTH_VERSION,
		commit: BERTH_COMMIT,
		log,
		timers,
		reconnectionGraceMs: graceSeconds * 1000,
		policy,
		allowRemoteBind: values['allow-remote-bind'] ?? false,
		...(providers ? { providers } : {}),
		...(connectorTokens ? { connectorTokens } : {}),
		...(values.autonomy ? { autonomy: true } : {}),
		...(values.upstream !== undefined ? { upstream: readUpstream(values.upstream, log) } : {}),
		...(users ? { bearer: users.bearer, agentKey: users.agentKey } : {}),
		...(users?.accounts ? { accounts: users.accounts } : {}),
		...(users?.web ? { web: users.web } : {}),
		...(tls ? { tls } : {}),
	});
	// Whoever waits for the listening line may stop the agent the moment it reads it: a clean stop.
	const stopSignal = waitForStopSignal();
	process.stdout.write(formatListeningLine(agent.url) + '\n');
	const statusUrl = agent.url.replace(/^ws/, 'http') + '/'; // ws: -> http:, wss: -> https:
	if (token.type === 'mandatory' && (token.source === 'stored' || token.source === 'generated')) {
		process.stdout.write(
			`Connection token ${token.source === 'generated' ? 'generated and ' : ''}kept in ${token.path} (mode 0600)\n`,
		);
		process.stdout.write(statusPageLine(statusUrl, token.path) + '\n');
	} else {
		process.stdout.write(statusPageLine(statusUrl, undefined) + '\n');
	}
	if (users) {
		printUsersBanner(users, statusUrl);
	}
	if (reverse && proxy) {
		process.stdout.write(
			`Proxy (SOCKS5 and HTTP) on ${formatHostPort(reverse.host, proxy.port)}, traffic leaves from its providers (berth client -r)\n`,
		);
	}
	log.info('agent started', {
		version: BERTH_VERSION,
		commit: BERTH_COMMIT,
		url: agent.url,
		pid: process.pid,
	});

	const signal = await stopSignal;
	log.info('stopping', { signal });
	reverse?.dispose();
	providers?.dispose();
	connectorTokens?.dispose();
	await agent.stop(`the agent received ${signal}`);
	users?.signIn?.dispose();
	users?.accounts?.dispose();
	log.info('stopped');
	crashGuard.dispose();
	return ExitCode.Ok;
}

/** The proxy port of `berth server -r` when --socks-port is not given (LinkSocks's). */
const DEFAULT_SOCKS_PORT = 9870;

/**
 * Reverse mode (`berth server -r`): a SOCKS5 + HTTP proxy port on the agent whose connections
 * leave from the clients that provide egress (`berth client -r`). Its listener opens while the
 * agent starts; a port that cannot be had fails the start (exit 5).
 */
function startReverseProxy(
	values: ReturnType<typeof parseServerFlags>,
	log: Logger,
	timers: Timers,
): { providers: ProviderPool; host: string; listening: Promise<ProxyListener>; dispose(): void } {
	const host = values['socks-host'] ?? DEFAULT_HOST;
	const port = parsePortFlag('--socks-port', values['socks-port'], DEFAULT_SOCKS_PORT);
	const credentials = readProxyCredentials({
		name: values.n,
		password: values.w,
		passwordFile: values['socks-password-file'],
		env: process.env,
		warn: (message) => log.warn(message),
	});
	const providers = new ProviderPool(timers, log.fork('providers'));
	const listening = ProxyListener.listen({
		bind: host,
		port,
		route: providers,
		credentials,
		timers,
		log: log.fork('proxy'),
	});
	listening.catch(() => providers.dispose());
	return {
		providers,
		host,
		listening,
		dispose: () => {
			providers.dispose();
			void listening.then(
				(proxy) => proxy.dispose(),
				() => undefined,
			);
		},
	};
}

/**
 * Relay mode's connector tokens, from --connector-token-file (repeatable) or -c (LinkSocks's
 * spelling, warned: argv is public). They need -r (the providers they reach) and the agent's
 * connection token (a connector proves its token the same way), and may not be that token.
 */
function readConnectorTokens(
	values: ReturnType<typeof parseServerFlags>,
	token: ConnectionToken,
	log: Logger,
): ConnectorTokens | undefined {
	const files = values['connector-token-file'] ?? [];
	const inline = values.c ?? [];
	if (files.length + inline.length === 0) {
		// With -r and a token, connector tokens may still come later (POST /api/connectors, or
		// declared by providers in autonomy mode).
		return values.reverse && token.type === 'mandatory' ? new ConnectorTokens(token.value) : undefined;
	}
	if (values.autonomy) {
		throw new BerthError(
			'BERTH_ERR_USAGE',
			'in autonomy mode (-a) providers declare connector tokens (berth provider --connector-token-file): the agent takes none',
		);
	}
	if (!values.reverse) {
		throw new BerthError(
			'BERTH_ERR_USAGE',
			'connector tokens need -r: connectors reach the providers of the reverse proxy',
		);
	}
	if (token.type !== 'mandatory') {
		throw new BerthError(
			'BERTH_ERR_USAGE',
			'connector tokens need a connection token: leave out --without-connection-token',
		);
	}
	if (inline.length > 0) {
		log.warn(
			'-c puts connector tokens in the process list, where every user of this host can read them: prefer --connector-token-file',
		);
	}
	const tokens = new ConnectorTokens(token.value);
	const add = (value: string, what: string): void => {
		if (value === token.value) {
			throw new BerthError(
				'BERTH_ERR_TOKEN',
				`${what} is the agent's connection token: a connector needs a token of its own`,
			);
		}
		tokens.add(value, what);
	};
	for (const file of files) {
		const what = `--connector-token-file ${file}`;
		const { text, warnings } = readTokenFile(file, { what });
		warnings.forEach((w) => log.warn(w));
		add(stripOneNewline(text), what);
	}
	inline.forEach((value, i) => add(value, `-c #${i + 1}`));
	return tokens;
}
