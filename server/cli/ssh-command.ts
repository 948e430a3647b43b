import { realpathSync } from 'node:fs';
import { hostname } from 'node:os';
import { BerthError } from '../../protocol/errors';
import { defaultSessionName } from '../../protocol/session-name';
import type { Timers } from '../../protocol/timers';
import { readAgentBundle } from '../client/ssh/agent-bundle';
import type { SshProgress } from '../client/ssh/host-dialogue';
import { SshAgentTunnel, type SshTunnelState } from '../client/ssh/ssh-agent-tunnel';
import { SshHostsFile } from '../client/ssh/ssh-hosts-file';
import type { SshLinkOptions } from '../client/ssh/ssh-link';
import { formatSshTarget, parseSshTarget } from '../client/ssh/ssh-target';
import { stopAgentOverSsh } from '../client/ssh/stop-agent-over-ssh';
import { defaultConfigDir } from '../shared/config-dir';
import { createLogger, type Logger } from '../shared/log';
import { createNodeTimers } from '../shared/transport/node-timers';
import { COMMON_OPTIONS, parseCommandLine, parseLogFlags } from './args';
import { checkSessionNameFlag } from './client-credentials';
import { ExitCode } from './exit-codes';
import { runForward, type ForwardValues } from './forward-command';
import { SSH_HELP } from './help';

type SshValues = ReturnType<typeof parseSshFlags>['values'];

/**
 * `berth ssh [user@]host[:port] [-L …] [-R …] [-D …]`: the agent on a host reached with the
 * system's ssh, installed and started there when need be, then forwards as `berth forward` makes
 * them, through an ssh tunnel to the agent's loopback port. `--stop` ends the agent instead.
 */
export async function runSshCommand(argv: string[]): Promise<number> {
	const { values, positionals } = parseSshFlags(argv);
	if (values.help) {
		process.stdout.write(SSH_HELP);
		return ExitCode.Ok;
	}
	if (positionals.length !== 1) {
		throw new BerthError(
			'BERTH_ERR_USAGE',
			`ssh: give one host, [user@]host[:port] (got ${positionals.length}); see berth ssh --help`,
		);
	}
	checkSessionNameFlag(values['session-name']);
	const timers = createNodeTimers();
	const log = createLogger({ ...parseLogFlags(values), timers });
	try {
		return await ssh(values, positionals[0]!, log, timers);
	} finally {
		log.dispose();
	}
}

function parseSshFlags(argv: string[]) {
	return parseCommandLine('ssh', argv, {
		...COMMON_OPTIONS,
		L: { type: 'string', multiple: true },
		R: { type: 'string', multiple: true },
		D: { type: 'string', multiple: true },
		F: { type: 'string' },
		ssh: { type: 'string' },
		node: { type: 'string' },
		'remote-dir': { type: 'string' },
		stop: { type: 'boolean' },
		n: { type: 'string' },
		w: { type: 'string' },
		'socks-password-file': { type: 'string' },
		'session-name': { type: 'string' },
		transport: { type: 'string' },
		'connect-timeout': { type: 'string' },
	});
}

/** What every ssh the command runs shares: the target, the agent to install, the token file. */
type SshOptions = SshLinkOptions & { readonly tokens: SshHostsFile };

/** The command once its logger is up. */
async function ssh(values: SshValues, host: string, log: Logger, timers: Timers): Promise<number> {
	const target = parseSshTarget(host, values.F);
	const forwards = (values.L?.length ?? 0) + (values.R?.length ?? 0) + (values.D?.length ?? 0);
	const options: SshOptions = {
		target,
		bundle: readAgentBundle(ownBundlePath()),
		timers,
		tokens: new SshHostsFile(defaultConfigDir(), undefined, (message) => log.warn(message)),
		onProgress: progressLogger(log, formatSshTarget(target)),
		...(values.ssh !== undefined ? { sshPath: values.ssh } : {}),
		...(values.node !== undefined ? { nodePath: values.node } : {}),
		...(values['remote-dir'] !== undefined ? { remoteDir: values['remote-dir'] } : {}),
	};
	if (values.stop) {
		if (forwards > 0) {
			throw new BerthError('BERTH_ERR_USAGE', 'ssh: --stop ends the agent: it takes no -L, -R or -D');
		}
		return stop(options, host);
	}
	const tunnel = await SshAgentTunnel.open(options);
	try {
		return forwards === 0 ? sayWhere(tunnel, host) : await forwardThrough(tunnel, values, host, log, timers);
	} finally {
		tunnel.dispose();
	}
}

/** `--stop`: ends the build's agent on the host. */
async function stop(options: SshOptions, host: string): Promise<number> {
	const pid = await stopAgentOverSsh(options);
	process.stdout.write(
		pid !== undefined
			? `Stopped the agent (pid ${pid}) on ${host}; its token file is removed\n`
			: `No agent of this build was running on ${host}; its token file is removed\n`,
	);
	return ExitCode.Ok;
}

/** No forwards: the agent runs; says where, and is done. */
function sayWhere(tunnel: SshAgentTunnel, host: string): number {
	const state = tunnel.state;
	process.stdout.write(
		`Berth agent running on ${host}` +
			(state.type === 'connected' ? ` (pid ${state.agentPid}, 127.0.0.1:${state.agentPort} there)` : '') +
			'\n',
	);
	return ExitCode.Ok;
}

/** Runs the forwards as berth forward does, through the tunnel, until a signal or a loss for good. */
function forwardThrough(
	tunnel: SshAgentTunnel,
	values: SshValues,
	host: string,
	log: Logger,
	timers: Timers,
): Promise<number> {
	const lost = new Promise<BerthError>((resolve) =>
		tunnel.onDidChangeState((state) => logTunnelState(log, host, state, resolve)),
	);
	return runForward(
		values as ForwardValues,
		{
			credentials: {
				address: tunnel.address,
				token: tunnel.token,
				sessionName: values['session-name'] ?? defaultSessionName('', hostname()),
			},
			clientName: `berth ssh on ${hostname()}`,
			lost,
		},
		{ log, timers },
	);
}

/**
 * This program's own file: the bundle that is installed on the host (dist/server.js, or the file
 * a `berth` link on PATH leads to).
 */
function ownBundlePath(): string {
	const script = process.argv[1];
	if (script === undefined) {
		throw new BerthError(
			'BERTH_ERR_USAGE',
			'ssh: cannot tell which file this berth runs from, to install it',
		);
	}
	return realpathSync(script);
}

/**
 * Logs each step of the first connection; a reconnection's at debug level (the tunnel's own
 * lines say it was lost and is back), except an install or a new start, which are news.
 */
function progressLogger(log: Logger, host: string): (progress: SshProgress) => void {
	let connected = false;
	return (progress) => {
		const level = connected ? 'debug' : 'info';
		switch (progress.step) {
			case 'connecting':
				return log[level](`connecting to ${host} with ssh`);
			case 'node-found':
				return log[level](`Node.js ${progress.version} on ${host}`);
			case 'installing':
				return log.info(`installing the agent on ${host} (${(progress.bytes / 1024 / 1024).toFixed(1)} MiB)`);
			case 'starting':
				return log.debug(`looking for the agent on ${host}`);
			case 'ready':
				connected = true;
				return log[progress.reused ? level : 'info'](
					progress.reused
						? `the agent already runs on ${host} (pid ${progress.pid}): using it`
						: `started the agent on ${host} (pid ${progress.pid})`,
					{ port: progress.port },
				);
		}
	};
}

function logTunnelState(
	log: Logger,
	host: string,
	state: SshTunnelState,
	failed: (error: BerthError) => void,
): void {
	switch (state.type) {
		case 'connected':
			return log.info(`the ssh connection to ${host} is back`, { agentPid: state.agentPid });
		case 'reconnecting':
			return log.warn(`the ssh connection to ${host} was lost; reconnecting`, {
				attempt: state.attempt,
				inSeconds: state.delayMs / 1000,
				lastError: state.lastError,
			});
		case 'failed':
			return failed(state.error);
	}
}
