/**
 * The soak's load program (bench/load/soak-workers.ts) against the bulk server through
 * 127.0.0.1:PORT. Prints JSON lines on stdout:
 *
 *   {"type":"ready",...}    once the IDLE idle connections are open (then churn and bulk start)
 *   {"type":"status",...}   every STATUS_INTERVAL_MS: the counters so far
 *   {"type":"final",...}    after a "stop" line on stdin: loops finished, idle connections checked
 *
 *   soak-load.ts PORT IDLE BULK_STREAMS CHURN_WORKERS
 */
import { createInterface } from 'node:readline';
import { patternBlock } from './pattern';
import { SoakLoad } from './soak-workers';

const STATUS_INTERVAL_MS = 1_000;

function print(value: unknown): void {
	process.stdout.write(JSON.stringify(value) + '\n');
}

async function main(): Promise<void> {
	const [port, idle, bulkStreams, churnWorkers] = process.argv.slice(2).map(Number) as [
		number,
		number,
		number,
		number,
	];
	const load = new SoakLoad(port, patternBlock());
	await load.openIdle(idle);
	print({ type: 'ready', ...load.counters });
	load.start(bulkStreams, churnWorkers);
	const timer = setInterval(() => print({ type: 'status', ...load.counters }), STATUS_INTERVAL_MS);
	await new Promise<void>((resolve) => {
		const lines = createInterface({ input: process.stdin });
		lines.on('line', (line) => line.trim() === 'stop' && resolve());
		lines.once('close', () => resolve());
	});
	const idleResult = await load.stop();
	clearInterval(timer);
	print({ type: 'final', ...load.counters, ...idleResult });
}

main().then(
	() => process.exit(0),
	(error: unknown) => {
		print({ type: 'error', error: error instanceof Error ? error.message : String(error) });
		process.exit(1);
	},
);
