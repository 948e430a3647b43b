/**
 * The parallel-streams load client: opens COUNT connections to the bulk server through
 * 127.0.0.1:PORT (CONCURRENCY at a time, each proven by the server's READY), starts them all at
 * once as endless transfers (MODE download: server to client; upload: client to server), and
 * after RAMP_MS counts the bytes each one moved during WINDOW_MS. Only checked bytes
 * count: received and equal to what the server sent at that offset (download), or confirmed by
 * the server after it compared them (upload). Prints one JSON line: aggregate Gbit/s, the rates
 * of the slowest, median and fastest connection, fairness (slowest / fastest), how many moved no
 * byte at all ("starved"), or {"error": ...} if any connection failed (reset, closed, wrong bytes).
 *
 *   parallel-client.ts MODE PORT COUNT CONCURRENCY RAMP_MS WINDOW_MS
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { BulkConnection, type BulkError } from './bulk-connection';
import { UNLIMITED, type BulkMode } from './bulk-protocol';
import { patternBlock } from './pattern';

/** How long opening one connection (connect + READY) may take. */
const OPEN_TIMEOUT_MS = 30_000;
/** How long to wait after a first failure before counting them. */
const AFTER_FAILURE_MS = 1_000;
/** How many failed connections the error line describes one by one. */
const ERRORS_SHOWN = 3;

function print(value: unknown): void {
	process.stdout.write(JSON.stringify(value) + '\n');
}

/** Opens every connection, `concurrency` at a time; stops at the first failure. */
async function openAll(conns: readonly BulkConnection[], concurrency: number): Promise<void> {
	let next = 0;
	let opened = 0;
	let failure: unknown;
	const worker = async (): Promise<void> => {
		while (failure === undefined && next < conns.length) {
			const conn = conns[next++]!;
			const timer = setTimeout(
				() => conn.fail('timeout', `no READY within ${OPEN_TIMEOUT_MS} ms`),
				OPEN_TIMEOUT_MS,
			);
			try {
				await conn.open();
				opened++;
			} catch (error) {
				failure ??= error;
			} finally {
				clearTimeout(timer);
			}
		}
	};
	await Promise.all(Array.from({ length: Math.min(concurrency, conns.length) }, worker));
	if (failure !== undefined) {
		throw new Error(
			`opening ${conns.length} connections: ${(failure as Error).message} (${opened} were open)`,
		);
	}
}

/** Resolves after `ms`, or earlier when any connection fails. */
function waitOrFailure(conns: readonly BulkConnection[], ms: number): Promise<void> {
	const failed = Promise.race(conns.map((c) => c.finished.then(() => new Promise<void>(() => undefined))));
	return Promise.race([sleep(ms), failed.catch(() => undefined)]);
}

function errorSummary(errors: readonly BulkError[], count: number): string {
	const byCode = new Map<string, number>();
	for (const e of errors) {
		byCode.set(e.code, (byCode.get(e.code) ?? 0) + 1);
	}
	const codes = [...byCode].map(([code, n]) => `${n} ${code}`).join(', ');
	const first = errors.slice(0, ERRORS_SHOWN).map((e) => e.message);
	return `${errors.length} of ${count} connections failed (${codes}); first: ${first.join('; ')}`;
}

function figures(moved: readonly number[], seconds: number, openSeconds: number): Record<string, number> {
	const toGbps = (bytes: number): number => (bytes * 8) / seconds / 1e9;
	const sorted = [...moved].sort((a, b) => a - b);
	const total = sorted.reduce((sum, b) => sum + b, 0);
	return {
		gbps: toGbps(total),
		bytes: total,
		seconds,
		slowestGbps: toGbps(sorted[0]!),
		medianGbps: toGbps(sorted[sorted.length >> 1]!),
		fastestGbps: toGbps(sorted[sorted.length - 1]!),
		starved: sorted.filter((b) => b === 0).length,
		openSeconds,
		// Undefined (left out) when no connection moved a byte: nothing to compare.
		...(total > 0 ? { fairness: sorted[0]! / sorted[sorted.length - 1]! } : {}),
	};
}

async function main(): Promise<void> {
	const [mode, ...numbers] = process.argv.slice(2);
	const [port, count, concurrency, rampMs, windowMs] = numbers.map(Number) as [
		number,
		number,
		number,
		number,
		number,
	];
	if (mode !== 'download' && mode !== 'upload') {
		throw new Error(`MODE must be download or upload, not ${mode}`);
	}
	const block = patternBlock();
	const conns = Array.from(
		{ length: count },
		(_, i) => new BulkConnection(port, i, mode as BulkMode, UNLIMITED, block),
	);
	const openStart = performance.now();
	await openAll(conns, concurrency);
	const openSeconds = (performance.now() - openStart) / 1000;

	for (const conn of conns) {
		conn.start();
	}
	await waitOrFailure(conns, rampMs);
	const before = conns.map((c) => c.moved);
	const from = performance.now();
	await waitOrFailure(conns, windowMs);
	const moved = conns.map((c, i) => c.moved - before[i]!);
	const window = (performance.now() - from) / 1000;

	if (conns.some((c) => c.failure !== undefined)) {
		// One reset often announces many (a session that failed): let them all arrive.
		await sleep(AFTER_FAILURE_MS);
	}
	const errors = conns.flatMap((c) => (c.failure ? [c.failure] : []));
	for (const conn of conns) {
		conn.stop();
	}
	if (errors.length > 0) {
		print({ error: errorSummary(errors, conns.length), failed: errors.length });
	} else {
		print(figures(moved, window, openSeconds));
	}
}

main().then(
	() => process.exit(0),
	(error: unknown) => {
		print({ error: error instanceof Error ? error.message : String(error) });
		process.exit(1);
	},
);
