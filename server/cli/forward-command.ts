import { BerthError, errorMessage } from '../../protocol/errors';
import { DisposableStore } from '../../protocol/lifecycle';
import type { ForwardInfo } from '../../protocol/rpc';
import type { PeerKind } from '../client/client-handshake';
import type { AgentEndpoint } from '../client/dial';
import { fetchAgentCommit } from '../client/fetch-commit';
import {
	formatLocalForwardSpec,
	parseDynamicForwardSpec,
	parseLocalForwardSpec,
	type DynamicForwardSpec,
	type LocalForwardSpec,
} from '../client/forward-spec';
import type { ProxyCredentials } from '../shared/proxy/proxy-credentials';
import { readProxyCredentials } from './read-proxy-credentials';
import { readUpstream } from './read-upstream';
import type { Forwarder } from '../client/forwarder';
import { TunnelForwarder } from '../client/tunnel-forwarder';
import type { TransportMode } from '../client/open-transport';
import { StreamForwarder, type ForwarderState } from '../client/stream-forwarder';
import { createLogger, type Logger } from '../shared/log';
import { hostname } from 'node:os';
import type { Timers } from '../../protocol/timers';
import { createNodeTimers } from '../shared/transport/node-timers';
import { BERTH_COMMIT } from '../shared/version';
import { COMMON_OPTIONS, parseChoice, parseFlags, parseLogFlags, parseSecondsFlag } from './args';
import { ExitCode, exitCodeFor } from './exit-codes';
import { FORWARD_HELP } from './help';
import { resolveClientCredentials, type ClientCredentials } from './client-credentials';
import { defaultConfigDir } from '../shared/config-dir';
import { readClientTls } from './read-client-tls';
import { waitForStopSignal } from './signals';
import { formatHostPort } from '../../protocol/host-port';
import { RECONNECT_ATTEMPT_TIMEOUT_MS } from '../../protocol/constants';
import { installCrashGuard } from './crash-guard';

const TRANSPORT_MODES: readonly TransportMode[] = ['auto', 'tcp', 'websocket'];
const PEER_KINDS: readonly PeerKind[] = ['berth', 'vscode'];
/** --connect-timeout's default: VS Code's time for one reconnection attempt (30 s). */
const DEFAULT_CONNECT_TIMEOUT_S = RECONNECT_ATTEMPT_TIMEOUT_MS / 1000;

/**
 * `berth forward`: opens every -L and -R forward through one agent and keeps them up until
 * SIGINT/SIGTERM. Against a Berth agent every connection is a stream of one session (which is
 * renewed when it drops, listeners staying up); against VS Code's server (`--peer vscode`) each
 * connection is its own Tunnel connection, as VS Code does it.
 */
export async function runForwardCommand(argv: string[]): Promise<number> {
	const values = parseForwardFlags(argv);
	if (values.help) {
		process.stdout.write(FORWARD_HELP);
		return ExitCode.Ok;
	}
	return runForward(values);
}

/** What `berth client -r` adds to a forward: this host provides egress for the agent's proxy port. */
export interface ProvideEgress {
	/** The provider's name, for `via` labels; the session's id when absent. */
	readonly name?: string;
	/** Autonomy mode: the connector tokens this provider declares (theirs reach it only). */
	readonly connectorTokens?: readonly string[];
}

/**
 * `berth forward` with its flags read (also `berth client`: forward -D by another name, or with
 * -r, a provider of egress).
 */
/** Who runs the forward besides its flags: a provider of egress, or a connector (relay mode). */
export interface ForwardRole {
	readonly provide?: ProvideEgress;
	readonly connector?: boolean;
	/** The agent and token when the command found them itself (`berth ssh`): no -u, no token lookup. */
	readonly credentials?: ClientCredentials;
	/** What the agent lists this client as (default `berth forward on HOSTNAME`). */
	readonly clientName?: string;
	/** Settles when what carries the connection fails for good (`berth ssh`'s tunnel): the forward ends with it. */
	readonly lost?: Promise<BerthError>;
}

/** The logger and timers of a command that runs a forward as its last step (`berth ssh`). */
export interface ForwardContext {
	readonly log: Logger;
	readonly timers: Timers;
}

/**
 * Refusals of a connector's token tried again after a lost session: at VS Code's 0, 5, 5 s
 * schedule a removed token still ends the connector within about 10 s, and a provider that
 * reconnected to a restarted agent has declared the token again long before the last try.
 */
const CONNECTOR_TOKEN_REFUSAL_RETRIES = 2;

export async function runForward(
	values: ForwardValues,
	role: ForwardRole = {},
	context?: ForwardContext,
): Promise<number> {
	if (context) {
		return forward(values, context.log, context.timers, role);
	}
	const timers = createNodeTimers();
	const log = createLogger({ ...parseLogFlags(values), timers });
	try {
		return await forward(values, log, timers, role);
	} finally {
		log.dispose(); // the summaries of repeated lines still pending
	}
}

export type ForwardValues = ReturnType<typeof parseForwardFlags>;

function parseForwardFlags(argv: string[]) {
	return parseFlags('forward', argv, {
		...COMMON_OPTIONS,
		url: { type: 'string', short: 'u' },
		L: { type: 'string', multiple: true },
		R: { type: 'string', multiple: true },
		D: { type: 'string', multiple: true },
		n: { type: 'string' },
		w: { type: 'string' },
		'socks-password-file': { type: 'string' },
		'token-file': { type: 'string' },
		'no-token': { type: 'boolean' },
		'session-name': { type: 'string' },
		transport: { type: 'string' },
		peer: { type: 'string' },
		'skip-commit-check': { type: 'boolean' },
		'connect-timeout': { type: 'string' },
		upstream: { type: 'string' },
		'ca-file': { type: 'string' },
		insecure: { type: 'boolean' },
		dev: { type: 'boolean' },
	});
}

/** The command once its logger is up: connects, opens the forwards, waits for a signal. */
async function forward(
	values: ForwardValues,
	log: Logger,
	timers: Timers,
	role: ForwardRole,
): Promise<number> {
	const { provide } = role;
	const locals = (values.L ?? []).map(parseLocalForwardSpec);
	// -R [BIND:]PORT without a target is ssh's dynamic reverse forward: a proxy port on the agent.
	const dynamicR = (values.R ?? []).filter(isDynamicSpec);
	const remotes = (values.R ?? []).filter((r) => !isDynamicSpec(r)).map(parseLocalForwardSpec);
	const reverseProxies = dynamicR.map(parseDynamicForwardSpec);
	const proxies = (values.D ?? []).map(parseDynamicForwardSpec);
	if (locals.length + remotes.length + proxies.length + reverseProxies.length === 0 && !provide) {
		throw new BerthError(
			'BERTH_ERR_USAGE',
			'forward: give at least one -L or -R [BIND:]PORT:HOST:PORT, or -D [BIND:]PORT',
		);
	}
	const credentials = readProxyCredentials({
		name: values.n,
		password: values.w,
		passwordFile: values['socks-password-file'],
		env: process.env,
		warn: (message) => log.warn(message),
	});
	const connectTimeoutS = parseSecondsFlag(
		'--connect-timeout',
		values['connect-timeout'],
		DEFAULT_CONNECT_TIMEOUT_S,
		1,
	);
	const peer = parseChoice('--peer', values.peer, PEER_KINDS, 'berth');
	const mode = parseChoice(
		'--transport',
		values.transport,
		TRANSPORT_MODES,
		peer === 'vscode' ? 'tcp' : 'auto',
	);
	if (peer === 'vscode' && mode !== 'tcp') {
		throw new BerthError(
			'BERTH_ERR_USAGE',
			"--peer vscode needs --transport tcp: VS Code's server cannot carry Tunnel connections over WebSocket frames",
		);
	}
	if (peer === 'vscode' && proxies.length > 0) {
		throw new BerthError(
			'BERTH_ERR_USAGE',
			"-D needs a Berth agent: VS Code's server cannot tell a proxy's target before it connects",
		);
	}
	if (peer === 'vscode' && remotes.length + reverseProxies.length > 0) {
		throw new BerthError(
			'BERTH_ERR_USAGE',
			"-R needs a Berth agent: VS Code's server has no reverse forwards",
		);
	}
	const { address, token, sessionName, agentKeyPin } =
		role.credentials ??
		(await resolveClientCredentials({
			url: values.url,
			tokenFile: values['token-file'],
			noToken: values['no-token'] === true,
			sessionName: values['session-name'],
			dev: values.dev === true,
			env: process.env,
			cwd: process.cwd(),
			configDir: defaultConfigDir(),
			log,
			now: () => new Date(),
		}));
	const tls = readClientTls({
		caFile: values['ca-file'],
		insecure: values.insecure,
		address,
		warn: (message) => log.warn(message),
	});

	let commit: string | undefined;
	if (peer === 'vscode') {
		commit = await fetchAgentCommit(address, undefined, tls);
		log.warn('forwarding through a VS Code server: it cannot sign, so its identity is NOT verified', {
			agent: address.display,
			commit,
		});
	} else if (!values['skip-commit-check']) {
		commit = BERTH_COMMIT;
	}
	const endpoint: AgentEndpoint = {
		address,
		token,
		mode,
		peer,
		timers,
		...(tls ? { tls } : {}),
		connectTimeoutMs: connectTimeoutS * 1000,
		clientName:
			role.clientName ?? (provide ? `berth client -r on ${hostname()}` : `berth forward on ${hostname()}`),
		sessionName,
		...(agentKeyPin !== undefined ? { agentKeyPin } : {}),
		log,
		...(role.connector ? { tokenRefusalRetries: CONNECTOR_TOKEN_REFUSAL_RETRIES } : {}),
		...(values.upstream !== undefined ? { upstream: readUpstream(values.upstream, log) } : {}),
		...(commit !== undefined ? { commit } : {}),
	};

	const stopped = waitForStopSignal().then((signal) => ({ signal }));
	let lost: Promise<{ lost: BerthError }> = new Promise(() => undefined);
	const carrierLost = role.lost?.then((error) => ({ lost: error })) ?? new Promise<never>(() => undefined);
	let forwarder: Forwarder;
	const subscriptions = new DisposableStore();
	subscriptions.add(installCrashGuard(log));
	if (peer === 'berth') {
		const streams = await StreamForwarder.start(endpoint);
		const state = streams.state;
		log.info('connected to the agent', {
			agent: address.display,
			...(state.type === 'connected' ? { version: state.info.version, host: state.info.host } : {}),
		});
		lost = watchState(streams, log, subscriptions);
		forwarder = streams;
	} else {
		forwarder = new TunnelForwarder(endpoint);
	}
	const describe = describer(forwarder);
	subscriptions.add(
		forwarder.onDidFailConnection((failure) =>
			log.warn(`forward ${describe(failure.id)}: ${failure.message}`),
		),
	);

	const forwards = await openForwards(forwarder, locals, remotes, address.display, log);
	const proxied =
		forwarder instanceof StreamForwarder
			? await openProxies(forwarder, proxies, credentials, address.display, log)
			: { opened: 0, failures: [] };
	const reverseProxied =
		forwarder instanceof StreamForwarder
			? await openReverseProxies(forwarder, reverseProxies, address.display, log)
			: { opened: 0, failures: [] };
	const provided =
		provide && forwarder instanceof StreamForwarder
			? await provideEgress(forwarder, provide, address.display, log)
			: { opened: 0, failures: [] };
	const failures = [
		...forwards.failures,
		...proxied.failures,
		...reverseProxied.failures,
		...provided.failures,
	];
	if (forwards.opened + proxied.opened + reverseProxied.opened + provided.opened === 0) {
		subscriptions.dispose();
		forwarder.dispose();
		throw noForwardOpened(failures);
	}
	const ended = await Promise.race([stopped, lost, carrierLost]);
	subscriptions.dispose();
	forwarder.dispose();
	if ('lost' in ended) {
		log.error(ended.lost.message);
		return exitCodeFor(ended.lost);
	}
	log.info('stopped', { signal: ended.signal });
	return ExitCode.Ok;
}

/**
 * The error when no forward opened: a loop when every forward was refused as one (exit 6), else
 * a listen failure (exit 5).
 */
function noForwardOpened(failures: readonly unknown[]): BerthError {
	const loops = failures.every((f) => f instanceof BerthError && f.code === 'BERTH_ERR_LOOP');
	return loops
		? new BerthError(
				'BERTH_ERR_LOOP',
				'forward: no forward could be opened: each would reach a listener of this client',
			)
		: new BerthError('BERTH_ERR_LISTEN', 'forward: no forward could be opened');
}

/**
 * Opens each forward, printing one stdout line per forward that works; returns how many did,
 * and the errors of those that did not.
 */
async function openForwards(
	forwarder: Forwarder,
	locals: readonly LocalForwardSpec[],
	remotes: readonly LocalForwardSpec[],
	agent: string,
	log: Logger,
): Promise<{ opened: number; failures: unknown[] }> {
	let opened = 0;
	const failures: unknown[] = [];
	for (const spec of locals) {
		try {
			const info = await forwarder.addLocal(spec);
			process.stdout.write(
				`Forwarding ${endpointText(info.bindHost, info.bindPort)} -> ${target(info)} via ${agent}\n`,
			);
			opened++;
		} catch (error) {
			failures.push(error);
			log.error(`forward -L ${formatLocalForwardSpec(spec)}: ${errorMessage(error)}`);
		}
	}
	for (const spec of remotes) {
		try {
			const info = await forwarder.addRemote({
				bindHost: spec.bind,
				bindPort: spec.localPort,
				targetHost: spec.host,
				targetPort: spec.port,
			});
			process.stdout.write(
				`Forwarding agent ${endpointText(info.bindHost, info.bindPort)} -> ${target(info)} here, via ${agent}\n`,
			);
			opened++;
		} catch (error) {
			failures.push(error);
			log.error(`forward -R ${formatLocalForwardSpec(spec)}: ${errorMessage(error)}`);
		}
	}
	return { opened, failures };
}

function endpointText(host: string, port: number): string {
	return formatHostPort(host, port);
}

function target(info: ForwardInfo): string {
	return endpointText(info.targetHost, info.targetPort);
}

function describer(forwarder: Forwarder): (id: string) => string {
	return (id) => {
		const info = forwarder.list().find((f) => f.id === id);
		return info ? `${endpointText(info.bindHost, info.bindPort)} -> ${target(info)}` : id;
	};
}

/** `-R [BIND:]PORT`: a spec of at most two parts (no target). */
function isDynamicSpec(text: string): boolean {
	return !/^(\[[^\]]*\]|[^:[]*):(\[[^\]]*\]|[^:[]*):/.test(text);
}

/** Opens each dynamic reverse forward: a proxy port on the agent whose traffic leaves from here. */
async function openReverseProxies(
	forwarder: StreamForwarder,
	specs: readonly DynamicForwardSpec[],
	agent: string,
	log: Logger,
): Promise<{ opened: number; failures: unknown[] }> {
	let opened = 0;
	const failures: unknown[] = [];
	for (const spec of specs) {
		try {
			const at = await forwarder.addReverseProxy(spec);
			process.stdout.write(
				`Proxy (SOCKS5 and HTTP) on agent ${endpointText(at.bindHost, at.bindPort)}, traffic leaves from here, via ${agent}\n`,
			);
			opened++;
		} catch (error) {
			failures.push(error);
			log.error(`forward -R ${endpointText(spec.bind, spec.port)}: ${errorMessage(error)}`);
		}
	}
	return { opened, failures };
}

/** Offers this host as an exit for the agent's proxy port (reverse mode). */
async function provideEgress(
	forwarder: StreamForwarder,
	provide: ProvideEgress,
	agent: string,
	log: Logger,
): Promise<{ opened: number; failures: unknown[] }> {
	try {
		await forwarder.provideEgress(provide.name, provide.connectorTokens);
		process.stdout.write(`Providing egress: connections to ${agent}'s proxy port leave from this host\n`);
		return { opened: 1, failures: [] };
	} catch (error) {
		log.error(`client -r: ${errorMessage(error)}`);
		return { opened: 0, failures: [error] };
	}
}

/** Opens each -D proxy, printing one stdout line per proxy that listens. */
async function openProxies(
	forwarder: StreamForwarder,
	proxies: readonly DynamicForwardSpec[],
	credentials: ProxyCredentials,
	agent: string,
	log: Logger,
): Promise<{ opened: number; failures: unknown[] }> {
	let opened = 0;
	const failures: unknown[] = [];
	for (const spec of proxies) {
		try {
			const proxy = await forwarder.addProxy(spec, credentials, log);
			process.stdout.write(
				`Proxy (SOCKS5 and HTTP) on ${endpointText(spec.bind, proxy.bindPort)}, traffic leaves from ${agent}\n`,
			);
			opened++;
		} catch (error) {
			failures.push(error);
			log.error(`forward -D ${endpointText(spec.bind, spec.port)}: ${errorMessage(error)}`);
		}
	}
	return { opened, failures };
}

/** Logs the link's ups and downs; resolves only if it fails for good (a refusal that needs a human). */
function watchState(
	forwarder: StreamForwarder,
	log: Logger,
	subscriptions: DisposableStore,
): Promise<{ lost: BerthError }> {
	return new Promise((resolve) => {
		subscriptions.add(
			forwarder.onDidChangeState((state: ForwarderState) => {
				switch (state.type) {
					case 'connected':
						log.info(
							state.resumed
								? 'connected to the agent again; session resumed, no connection lost'
								: 'connected to the agent again; forwards restored',
						);
						return;
					case 'reconnecting':
						log.warn(
							state.resuming
								? 'connection to the agent lost; reconnecting (connections held, listeners stay up)'
								: 'connection to the agent lost; reconnecting (listeners stay up)',
							{
								attempt: state.attempt,
								inSeconds: state.delayMs / 1000,
								lastError: state.lastError,
							},
						);
						return;
					case 'failed':
						resolve({ lost: state.error });
						return;
				}
			}),
		);
	});
}
