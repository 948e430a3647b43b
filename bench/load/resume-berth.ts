/**
 * The resume case's Berth side (issue 13), run by resume-client.ts: a 1-byte ping-pong through
 * `berth forward -L`, whose session runs through a FaultProxy that cuts it again and again, and
 * new stream sessions opened beside it through a second, uncut FaultProxy in front of the same
 * agent, one sample of each after the other (interleaved, so both see the same load).
 */
import type { Socket } from 'node:net';
import { FaultProxy } from '../../test/helpers/fault-proxy';
import { parseAgentUrl } from '../../server/client/agent-url';
import type { AgentEndpoint } from '../../server/client/dial';
import type { TransportMode } from '../../server/client/open-transport';
import { OwnForwards } from '../../server/client/own-forwards';
import { StreamSession } from '../../server/client/stream-session';
import { createNodeTimers } from '../../server/shared/transport/node-timers';
import { echoOnce, ONE, openSocket } from './echo-socket';
import { microseconds, summarize } from './samples';

/** Round trips after each resume, untimed by the cut: they settle the session and give the uncut reference. */
const ROUND_TRIPS_BETWEEN_CUTS = 5;
/** One sample must be over within this (a resume that does not come back fails the run). */
const SAMPLE_TIMEOUT_MS = 20_000;

export interface BerthRun {
	/** The forward's local port (-L), which leads to the echo server through the cut proxy. */
	readonly localPort: number;
	readonly echoPort: number;
	readonly warmup: number;
	readonly count: number;
}

/** The two proxies in front of the agent: one for the forward (cut), one for new sessions. */
export interface BerthProxies {
	readonly cut: FaultProxy;
	readonly fresh: FaultProxy;
}

export async function startBerthProxies(agentPort: number): Promise<BerthProxies> {
	const cut = await FaultProxy.start({ targetPort: agentPort });
	const fresh = await FaultProxy.start({ targetPort: agentPort });
	return { cut, fresh };
}

/** Timings in µs, as `resume.p50`, `fresh.p99`, ... (see the case's table for what each is). */
export async function runBerth(
	proxies: BerthProxies,
	run: BerthRun,
	transport: TransportMode,
	token: string,
): Promise<Record<string, number>> {
	const endpoint = freshEndpoint(proxies.fresh.port, transport, token);
	const socket = await openSocket(run.localPort);
	const samples = {
		resume: [] as number[],
		fresh: [] as number[],
		freshByte: [] as number[],
		rtt: [] as number[],
	};
	try {
		await echoOnce(socket, SAMPLE_TIMEOUT_MS);
		for (let i = -run.warmup; i < run.count; i++) {
			const resume = await cutAndEcho(proxies.cut, socket);
			const rtt = await roundTrips(socket, ROUND_TRIPS_BETWEEN_CUTS);
			const fresh = await newSession(endpoint, run.echoPort);
			// The agent has ended that session (it closed its socket) before the next cut.
			await Promise.all(proxies.fresh.connections.map((connection) => connection.closed));
			if (i >= 0) {
				samples.resume.push(resume);
				samples.rtt.push(...rtt);
				samples.fresh.push(fresh.handshake);
				samples.freshByte.push(fresh.firstByte);
			}
		}
	} finally {
		socket.destroy();
		endpoint.own.dispose();
	}
	const values: Record<string, number> = {
		// Connections the forward opened beyond one per cut: resume attempts that failed.
		extraDials: proxies.cut.accepted - 1 - (run.warmup + run.count),
	};
	for (const [name, list] of Object.entries(samples)) {
		for (const [stat, value] of Object.entries(summarize(list))) {
			values[`${name}.${stat}`] = value;
		}
	}
	return values;
}

function freshEndpoint(
	port: number,
	mode: TransportMode,
	token: string,
): AgentEndpoint & { readonly own: OwnForwards } {
	// One OwnForwards for all, as `berth forward` has one for its process (it reads the network identity).
	return {
		address: parseAgentUrl(`ws://127.0.0.1:${port}`),
		token,
		mode,
		peer: 'berth',
		timers: createNodeTimers(),
		clientName: 'berth bench (resume case)',
		own: new OwnForwards(),
	};
}

/**
 * Sends one byte through the forward and cuts the forward's connection to the agent at once
 * (the byte is then in flight: it crosses the resumed session, never the cut one); resolves with
 * the time from the cut to the echo.
 */
async function cutAndEcho(proxy: FaultProxy, socket: Socket): Promise<number> {
	const echoed = nextByte(socket);
	const cutAt = process.hrtime.bigint();
	socket.write(ONE);
	proxy.cut();
	await echoed;
	return microseconds(cutAt, process.hrtime.bigint());
}

/** `count` 1-byte round trips, each timed. */
async function roundTrips(socket: Socket, count: number): Promise<number[]> {
	const times: number[] = [];
	for (let i = 0; i < count; i++) {
		const echoed = nextByte(socket);
		const sentAt = process.hrtime.bigint();
		socket.write(ONE);
		await echoed;
		times.push(microseconds(sentAt, process.hrtime.bigint()));
	}
	return times;
}

/** Resolves at the next byte `socket` reads; rejects if it closes first or nothing comes in time. */
function nextByte(socket: Socket): Promise<void> {
	return new Promise((resolve, reject) => {
		const done = (error?: Error): void => {
			clearTimeout(timer);
			socket.off('data', onData);
			socket.off('close', onClose);
			if (error) {
				reject(error);
			} else {
				resolve();
			}
		};
		const onData = (): void => done();
		const onClose = (): void =>
			done(new Error('the forwarded connection closed: the session was not resumed'));
		const timer = setTimeout(
			() => done(new Error(`no byte within ${SAMPLE_TIMEOUT_MS} ms`)),
			SAMPLE_TIMEOUT_MS,
		);
		socket.on('data', onData);
		socket.once('close', onClose);
	});
}

/**
 * A new stream session as `berth forward` opens one (connect, upgrade, handshake, then `hello`
 * and `serverInfo`), then a stream to the echo server with one byte right behind its Open.
 * Times: to serverInfo, and to the echoed byte; both from before the connect.
 */
async function newSession(
	endpoint: AgentEndpoint,
	echoPort: number,
): Promise<{ handshake: number; firstByte: number }> {
	const started = process.hrtime.bigint();
	const { session } = await StreamSession.connect(endpoint);
	try {
		const handshake = microseconds(started, process.hrtime.bigint());
		const stream = session.open({ kind: 'tcp', host: '127.0.0.1', port: echoPort });
		await new Promise<void>((resolve, reject) => {
			stream.attach({
				onData: () => resolve(),
				onEnd: () => reject(new Error('the echo stream ended before its byte came back')),
				onReset: (reset) => reject(new Error(`the echo stream was reset: ${reset.reason}`)),
				onDrain: () => undefined,
			});
			stream.write(ONE);
		});
		return { handshake, firstByte: microseconds(started, process.hrtime.bigint()) };
	} finally {
		session.close();
	}
}
