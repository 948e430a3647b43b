/**
 * The resume case's driver (issue 13). It holds the cutting proxies and does the timing itself,
 * in one process, so a cut and the byte that follows it are timed on one clock, with no
 * message between processes in between:
 *
 *   berth AGENT_PORT TRANSPORT TOKEN_FILE
 *       two FaultProxies in front of the agent at 127.0.0.1:AGENT_PORT; prints
 *       `resume proxies on CUT_PORT FRESH_PORT` (the bench points `berth forward` at CUT_PORT),
 *       then reads one JSON line on stdin, a BerthRun (resume-berth.ts), runs it and prints its
 *       result as a JSON line. TRANSPORT is tcp or websocket, for the new sessions it opens.
 *   ssh SSHD_PORT
 *       one FaultProxy in front of sshd; prints `resume proxies on PORT PORT`, then reads an
 *       SshRun (resume-ssh.ts) whose ssh options dial PORT, and prints its result.
 *
 * It then waits to be stopped, so its proxies stay up while the bench stops `berth forward`.
 * A failure prints {"error": "..."} and exits 1.
 */
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { FaultProxy } from '../../test/helpers/fault-proxy';
import type { TransportMode } from '../../server/client/open-transport';
import { runBerth, startBerthProxies, type BerthRun } from './resume-berth';
import { runSsh, type SshRun } from './resume-ssh';

function print(value: unknown): void {
	process.stdout.write(JSON.stringify(value) + '\n');
}

/** The first line on stdin, parsed as JSON. */
function readRun<T>(): Promise<T> {
	return new Promise((resolve, reject) => {
		const lines = createInterface({ input: process.stdin });
		const onClose = (): void => reject(new Error('stdin closed before the run was given'));
		lines.once('line', (line) => {
			lines.off('close', onClose);
			lines.close();
			try {
				resolve(JSON.parse(line) as T);
			} catch (error) {
				reject(error instanceof Error ? error : new Error(String(error)));
			}
		});
		lines.once('close', onClose);
	});
}

function transportOf(text: string | undefined): TransportMode {
	if (text === 'tcp' || text === 'websocket') {
		return text;
	}
	throw new Error(`TRANSPORT: expected tcp or websocket, got ${text}`);
}

async function berth(args: readonly string[]): Promise<void> {
	const transport = transportOf(args[1]);
	// The token comes in a file (mode 0600), never in argv.
	const token = readFileSync(args[2]!, 'utf8').trim();
	const proxies = await startBerthProxies(Number(args[0]));
	process.stdout.write(`resume proxies on ${proxies.cut.port} ${proxies.fresh.port}\n`);
	print(await runBerth(proxies, await readRun<BerthRun>(), transport, token));
}

async function ssh(args: readonly string[]): Promise<void> {
	const proxy = await FaultProxy.start({ targetPort: Number(args[0]) });
	process.stdout.write(`resume proxies on ${proxy.port} ${proxy.port}\n`);
	print(await runSsh(await readRun<SshRun>()));
}

function main(): Promise<void> {
	const [mode, ...args] = process.argv.slice(2);
	switch (mode) {
		case 'berth':
			return berth(args);
		case 'ssh':
			return ssh(args);
		default:
			return Promise.reject(new Error(`unknown mode ${mode}`));
	}
}

main().catch((error: unknown) => {
	print({ error: error instanceof Error ? error.message : String(error) });
	process.exit(1);
});
