/**
 * The targets every path forwards to, started once per bench run: an iperf3 server, the Node
 * echo server and the bulk server. They restart themselves if a measurement left them broken.
 */
import { join } from 'node:path';
import { freePort, sleep, waitListening } from './net';
import { runToEnd, startProc, type Proc } from './procs';

export class IperfServer {
	private proc: Proc | undefined;
	port = 0;

	async start(): Promise<void> {
		this.port ||= await freePort();
		const proc = startProc('iperf3 -s', 'iperf3', ['-s', '-B', '127.0.0.1', '-p', String(this.port)]);
		this.proc = proc;
		await waitListening(this.port, 10_000, () => proc.describeExit());
	}

	/** A fresh server on the same port (after a failed test: iperf3 -s can stay busy with the broken one). */
	async restart(): Promise<void> {
		await this.stop();
		await this.start();
	}

	async stop(): Promise<void> {
		await this.proc?.stop(2_000);
		this.proc = undefined;
	}
}

/** What one iperf3 client run measured. */
export interface IperfResult {
	readonly gbps: number;
	readonly bytes: number;
	readonly seconds: number;
	/** CPU seconds of the iperf3 client and server themselves (from their reported utilization). */
	readonly iperfCpuSeconds: number;
}

interface IperfJson {
	error?: string;
	end?: {
		sum_received?: { bytes: number; seconds: number; bits_per_second: number };
		cpu_utilization_percent?: { host_total: number; remote_total: number };
	};
}

/**
 * Runs `iperf3 -c 127.0.0.1 -p PORT -J ARGS` to its end and reads the received side. iperf3 -s
 * takes one test at a time and may still be closing the previous one (its connections close
 * through the relay): "the server is busy" is retried a few times.
 */
export async function runIperf(
	port: number,
	args: readonly string[],
	timeoutMs: number,
	wrapper: readonly string[] = [],
): Promise<IperfResult> {
	for (let attempt = 1; ; attempt++) {
		try {
			return await runIperfOnce(port, args, timeoutMs, wrapper);
		} catch (error) {
			if (attempt >= BUSY_RETRIES || !/server is busy/.test((error as Error).message)) {
				throw error;
			}
			await sleep(1_000);
		}
	}
}

const BUSY_RETRIES = 8;

/** `wrapper`: a command iperf3 runs under (e.g. proxychains4 and its flags), or none. */
async function runIperfOnce(
	port: number,
	args: readonly string[],
	timeoutMs: number,
	wrapper: readonly string[],
): Promise<IperfResult> {
	const iperf = ['iperf3', '-c', '127.0.0.1', '-p', String(port), '-J', ...args];
	const [command, ...rest] = [...wrapper, ...iperf];
	const result = await runToEnd('iperf3 -c', command!, rest, timeoutMs);
	let json: IperfJson;
	try {
		json = JSON.parse(result.stdout) as IperfJson;
	} catch {
		throw new Error(
			`iperf3 ${args.join(' ')}: no JSON (exit ${result.code}${result.timedOut ? ', timed out' : ''}): ${result.stderr.trim() || result.stdout.slice(0, 300)}`,
		);
	}
	const received = json.end?.sum_received;
	if (json.error !== undefined || received === undefined || result.code !== 0) {
		throw new Error(
			`iperf3 ${args.join(' ')}: ${json.error ?? `exit ${result.code}`}${result.timedOut ? ' (timed out)' : ''}`,
		);
	}
	const cpu = json.end?.cpu_utilization_percent;
	return {
		gbps: received.bits_per_second / 1e9,
		bytes: received.bytes,
		seconds: received.seconds,
		iperfCpuSeconds: cpu ? ((cpu.host_total + cpu.remote_total) / 100) * received.seconds : NaN,
	};
}

/**
 * One of the Node targets under bench/load/ (the echo server, the bulk server) in a process of
 * its own; the script prints "NAME listening on PORT" once ready.
 */
export class LoadServer {
	private proc: Proc | undefined;
	port = 0;

	constructor(
		private readonly benchDir: string,
		private readonly name: 'echo' | 'bulk',
	) {}

	async start(): Promise<void> {
		const proc = startProc(`${this.name} server`, process.execPath, [
			'--import',
			'tsx',
			join(this.benchDir, 'load', `${this.name}-server.ts`),
		]);
		this.proc = proc;
		const match = await proc.waitForLine(new RegExp(`^${this.name} listening on (\\d+)$`), 20_000);
		this.port = Number(match[1]);
	}

	/** Whether it still runs; restarts it if not. */
	async ensure(): Promise<void> {
		if (this.proc?.alive !== true) {
			await this.start();
		}
	}

	async stop(): Promise<void> {
		await this.proc?.stop(2_000);
		this.proc = undefined;
	}
}

/**
 * Runs a load client (bench/load/client.ts, or `script`) to its end and returns its last JSON
 * line; a line with "error" throws it.
 */
export async function runLoadClient(
	benchDir: string,
	args: readonly string[],
	timeoutMs: number,
	script = 'client.ts',
): Promise<Record<string, number>> {
	const result = await runToEnd(
		`load client ${args[0]}`,
		process.execPath,
		['--import', 'tsx', join(benchDir, 'load', script), ...args],
		timeoutMs,
	);
	const last = result.stdout.trim().split('\n').pop() ?? '';
	let json: Record<string, number | string>;
	try {
		json = JSON.parse(last) as Record<string, number | string>;
	} catch {
		throw new Error(
			`load client ${args.join(' ')}: no result (exit ${result.code}${result.timedOut ? ', timed out' : ''}): ${result.stderr.trim().slice(-500)}`,
		);
	}
	if (typeof json.error === 'string') {
		throw new Error(`load client ${args[0]}: ${json.error}`);
	}
	return json as Record<string, number>;
}

/**
 * A load client that keeps connections open (the idle case), driven stage by stage; with
 * `socksTarget`, `port` is a SOCKS5 proxy it asks for 127.0.0.1:socksTarget.
 */
export function startIdleClient(
	benchDir: string,
	port: number,
	stages: readonly number[],
	concurrency: number,
	socksTarget?: number,
): Proc {
	return startProc(
		'idle load client',
		process.execPath,
		[
			'--import',
			'tsx',
			join(benchDir, 'load', 'client.ts'),
			'idle',
			String(port),
			stages.join(','),
			String(concurrency),
			...(socksTarget === undefined ? [] : [String(socksTarget)]),
		],
		{ stdin: true },
	);
}
