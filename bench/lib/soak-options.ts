import { join } from 'node:path';
import { parseArgs } from 'node:util';

export const SOAK_USAGE = `npm run soak -- [options]

Runs one Berth agent and one \`berth forward -L\` client (from a fresh dist/) for a while under
connection churn (short connections, some aborted with RST, some held idle a moment), parallel
bulk transfers and idle connections, all checked byte by byte; samples RSS and open file
descriptors of both processes, and writes a table and a verdict to bench/SOAK.md (raw samples
under bench/out/). Exit code 0 when the verdict is PASS, 1 otherwise.

Options:
  --minutes M            how long the load runs (default 10; decimals allowed)
  --sample-seconds S     time between samples (default 5)
  --transport T          tcp (default) or websocket
  --idle N               idle connections held the whole time (default 100)
  --bulk N               parallel bulk streams, 8 MiB each, downloads and uploads in turn (default 32)
  --churn N              churn workers, each opening one connection after another (default 16)
  --berth-log-level L    --log-level for Berth's processes (default warn)
  --out FILE             where the Markdown goes (default bench/SOAK.md)
  --no-build             skip \`node esbuild.mjs\` (use dist/ as it is)
  -h, --help             this text
`;

export interface SoakSettings {
	readonly minutes: number;
	readonly sampleSeconds: number;
	readonly transport: 'tcp' | 'websocket';
	readonly idle: number;
	readonly bulk: number;
	readonly churn: number;
	readonly berthLogLevel: string;
	readonly out: string;
	readonly build: boolean;
}

function number(flag: string, value: string | undefined, fallback: number, integer: boolean): number {
	if (value === undefined) {
		return fallback;
	}
	const n = Number(value);
	if (!Number.isFinite(n) || n < 0 || (integer && !Number.isSafeInteger(n)) || (!integer && n === 0)) {
		throw new Error(`${flag}: expected a ${integer ? 'whole number' : 'positive number'}, got "${value}"`);
	}
	return n;
}

/** Parses the soak's command line; undefined means --help was printed. */
export function parseSoakSettings(argv: readonly string[], benchDir: string): SoakSettings | undefined {
	const { values } = parseArgs({
		args: [...argv],
		options: {
			minutes: { type: 'string' },
			'sample-seconds': { type: 'string' },
			transport: { type: 'string' },
			idle: { type: 'string' },
			bulk: { type: 'string' },
			churn: { type: 'string' },
			'berth-log-level': { type: 'string' },
			out: { type: 'string' },
			'no-build': { type: 'boolean' },
			help: { type: 'boolean', short: 'h' },
		},
		strict: true,
	});
	if (values.help) {
		process.stdout.write(SOAK_USAGE);
		return undefined;
	}
	const transport = values.transport ?? 'tcp';
	if (transport !== 'tcp' && transport !== 'websocket') {
		throw new Error(`--transport: expected tcp or websocket, got "${transport}"`);
	}
	return {
		minutes: number('--minutes', values.minutes, 10, false),
		sampleSeconds: number('--sample-seconds', values['sample-seconds'], 5, false),
		transport,
		idle: number('--idle', values.idle, 100, true),
		bulk: number('--bulk', values.bulk, 32, true),
		churn: number('--churn', values.churn, 16, true),
		berthLogLevel: values['berth-log-level'] ?? 'warn',
		out: values.out ?? join(benchDir, 'SOAK.md'),
		build: values['no-build'] !== true,
	};
}
