/** The throughput measurement the forward and proxy cases share: iperf3, 1 stream and 8. */
import type { CaseEnv } from './case-def';
import { runIperf } from './services';

/**
 * iperf3 to `port` for iperfSeconds, 1 stream then 8: {one, eight} in Gbit/s received. Under
 * `wrapper` (proxychains4 for the proxy paths) when given.
 */
export async function measureThroughput(
	env: CaseEnv,
	port: number,
	wrapper: readonly string[] = [],
): Promise<Record<string, number>> {
	const values: Record<string, number> = {};
	const timeout = (env.settings.iperfSeconds + 30) * 1000;
	for (const [metric, args] of [
		['one', ['-t', String(env.settings.iperfSeconds)]],
		['eight', ['-t', String(env.settings.iperfSeconds), '-P', '8']],
	] as const) {
		try {
			values[metric] = (await runIperf(port, args, timeout, wrapper)).gbps;
		} catch (error) {
			env.note(`${metric === 'one' ? '1 stream' : '8 streams'}: ${(error as Error).message}`);
			await env.iperf.restart();
		}
	}
	return values;
}
