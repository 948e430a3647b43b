import { BlockList, isIP } from 'node:net';

/**
 * 127.0.0.0/8 and ::1, however spelled (`::ffff:127.0.0.1`, `0:0::1`). Not 0.0.0.0 or `::`: those
 * are every interface. The agent checks remote binds with it; the client, its forwards' targets.
 */
export function isLoopbackAddress(address: string): boolean {
	const family = isIP(address);
	if (family === 0) {
		return false;
	}
	// One BlockList per call (microseconds), to keep no module state.
	const loopback = new BlockList();
	loopback.addSubnet('127.0.0.0', 8, 'ipv4');
	loopback.addAddress('::1', 'ipv6');
	return loopback.check(address, family === 4 ? 'ipv4' : 'ipv6');
}
