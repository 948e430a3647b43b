import { BerthError, errorMessage } from '../../protocol/errors';
import { ConnectionType } from '../../protocol/wire';
import { AgentLink } from '../client/agent-link';
import { parseAgentUrl } from '../client/agent-url';
import type { PeerKind } from '../client/client-handshake';
import { dial, type AgentEndpoint } from '../client/dial';
import { fetchAgentCommit } from '../client/fetch-commit';
import { formatLocalForwardSpec, parseLocalForwardSpec, type LocalForwardSpec } from '../client/forward-spec';
import { LocalForward } from '../client/local-forward';
import type { TransportMode } from '../client/open-transport';
import { createLogger, type Logger } from '../log';
import { createNodeTimers } from '../transport/node-timers';
import { BERTH_COMMIT } from '../version';
import { COMMON_OPTIONS, parseChoice, parseFlags, parseLogFlags } from './args';
import { ExitCode, exitCodeFor } from './exit-codes';
import { FORWARD_HELP } from './help';
import { readClientToken } from './read-token';
import { waitForStopSignal } from './signals';

const TRANSPORT_MODES: readonly TransportMode[] = ['tcp', 'websocket'];
const PEER_KINDS: readonly PeerKind[] = ['berth', 'vscode'];

/**
 * `berth forward`: checks the agent once (a Management session that then watches the link),
 * opens each -L listener, and carries every accepted connection through its own Tunnel
 * connection. Runs until SIGINT/SIGTERM, or until the agent is lost for good.
 */
export async function runForwardCommand(argv: string[]): Promise<number> {
	const values = parseFlags('forward', argv, {
		...COMMON_OPTIONS,
		url: { type: 'string', short: 'u' },
		L: { type: 'string', multiple: true },
		'token-file': { type: 'string' },
		'no-token': { type: 'boolean' },
		transport: { type: 'string' },
		peer: { type: 'string' },
		'skip-commit-check': { type: 'boolean' },
	});
	if (values.help) {
		process.stdout.write(FORWARD_HELP);
		return ExitCode.Ok;
	}
	const log = createLogger(parseLogFlags(values));
	if (values.url === undefined) {
		throw new BerthError(
			'BERTH_ERR_USAGE',
			'forward: -u URL is required (the agent, e.g. ws://127.0.0.1:8765)',
		);
	}
	const address = parseAgentUrl(values.url);
	const specs = (values.L ?? []).map(parseLocalForwardSpec);
	if (specs.length === 0) {
		throw new BerthError('BERTH_ERR_USAGE', 'forward: give at least one -L [BIND:]LOCALPORT:HOST:PORT');
	}
	const mode = parseChoice('--transport', values.transport, TRANSPORT_MODES, 'tcp');
	const peer = parseChoice('--peer', values.peer, PEER_KINDS, 'berth');
	if (peer === 'vscode' && mode !== 'tcp') {
		throw new BerthError(
			'BERTH_ERR_USAGE',
			"--peer vscode needs --transport tcp: VS Code's server cannot carry Tunnel connections over WebSocket frames",
		);
	}
	const token = values['no-token']
		? undefined
		: await readClientToken({ tokenFile: values['token-file'], env: process.env, agent: address.display });

	const timers = createNodeTimers();
	let commit: string | undefined;
	if (peer === 'vscode') {
		commit = await fetchAgentCommit(address);
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
		...(commit !== undefined ? { commit } : {}),
	};

	const stopped = waitForStopSignal().then((signal) => ({ signal }));
	let lost: Promise<{ lost: BerthError }> = new Promise(() => undefined);
	let link: AgentLink | undefined;
	if (peer === 'berth') {
		link = await AgentLink.open(endpoint);
		const info = link.state.type === 'connected' ? link.state.info : undefined;
		log.info('connected to the agent', {
			agent: address.display,
			version: info?.version,
			host: info?.host,
			transport: mode,
		});
		lost = watchLink(link, log);
	}

	const forwards = await openForwards(specs, endpoint, log);
	if (forwards.length === 0) {
		link?.dispose();
		throw new BerthError('BERTH_ERR_LISTEN', 'forward: no local port could be opened');
	}
	const ended = await Promise.race([stopped, lost]);
	for (const forward of forwards) {
		forward.dispose();
	}
	link?.dispose();
	if ('lost' in ended) {
		log.error(ended.lost.message);
		return exitCodeFor(ended.lost);
	}
	log.info('stopped', { signal: ended.signal });
	return ExitCode.Ok;
}

async function openForwards(
	specs: LocalForwardSpec[],
	endpoint: AgentEndpoint,
	log: Logger,
): Promise<LocalForward[]> {
	const opener = (host: string, port: number) =>
		dial(endpoint, { connectionType: ConnectionType.Tunnel, args: { host, port } });
	const forwards: LocalForward[] = [];
	for (const spec of specs) {
		try {
			const forward = await LocalForward.listen(spec, opener);
			const local = `${spec.bind.includes(':') ? `[${spec.bind}]` : spec.bind}:${forward.localPort}`;
			const target = `${spec.host.includes(':') ? `[${spec.host}]` : spec.host}:${spec.port}`;
			forward.onDidFailConnection((message) => log.warn(`forward ${local} -> ${target}: ${message}`));
			process.stdout.write(`Forwarding ${local} -> ${target} via ${endpoint.address.display}\n`);
			forwards.push(forward);
		} catch (error) {
			log.error(`forward ${formatLocalForwardSpec(spec)}: ${errorMessage(error)}`);
		}
	}
	return forwards;
}

/** Logs the link's ups and downs; resolves only if it fails for good (a refusal that needs a human). */
function watchLink(link: AgentLink, log: Logger): Promise<{ lost: BerthError }> {
	return new Promise((resolve) => {
		link.onDidChangeState((state) => {
			switch (state.type) {
				case 'connected':
					log.info(state.renewed ? 'connected to the agent with a new session' : 'reconnected to the agent');
					return;
				case 'reconnecting':
					log.warn('connection to the agent lost; reconnecting', {
						attempt: state.attempt,
						inSeconds: state.delayMs / 1000,
						lastError: state.lastError,
					});
					return;
				case 'failed':
					resolve({ lost: state.error });
					return;
			}
		});
	});
}
