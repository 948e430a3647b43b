import { randomUUID } from 'node:crypto';
import { errorMessage } from '../../protocol/errors';
import type { ForwardCounters } from '../../protocol/rpc';
import type { DynamicForwardSpec } from './forward-spec';
import type { ProxyInfo } from './proxy-info';
import type { StreamSession } from './stream-session';

interface ReverseEntry {
	readonly id: string;
	/** The bind address as asked for (what a renewal asks for again). */
	readonly bind: string;
	/** Where the agent listens: the address it bound, and the port it got first (asked for again). */
	readonly bindHost: string;
	readonly bindPort: number;
}

/**
 * The dynamic reverse forwards of a StreamForwarder (`-R [BIND:]PORT`): proxy ports on the agent
 * whose connections leave from this client. The agent keeps them as long as the session, so
 * they are asked for again, on the port each got first, on every renewed session. Their counters
 * are the client's egress counters (see ProxyInfo).
 */
export class ReverseProxiesClient {
	private readonly entries: ReverseEntry[] = [];

	constructor(private readonly counters: () => ForwardCounters) {}

	list(): ProxyInfo[] {
		return this.entries.map((entry) => this.describe(entry));
	}

	/**
	 * Asks the agent for a proxy port.
	 * @throws what the agent answers (BERTH_ERR_USAGE for a bind it does not allow, BERTH_ERR_LISTEN).
	 */
	async add(session: StreamSession, spec: DynamicForwardSpec): Promise<ProxyInfo> {
		const opened = await session.rpc.request('addReverseProxy', {
			bindHost: spec.bind,
			bindPort: spec.port,
		});
		const entry: ReverseEntry = {
			id: randomUUID(),
			bind: spec.bind,
			bindHost: opened.bindHost,
			bindPort: opened.bindPort,
		};
		this.entries.push(entry);
		return this.describe(entry);
	}

	/** After a renewal: every proxy port is asked for again; `onFailure` hears of those refused. */
	restore(session: StreamSession, onFailure: (message: string) => void): void {
		for (const entry of this.entries) {
			session.rpc
				.request('addReverseProxy', { bindHost: entry.bind, bindPort: entry.bindPort })
				.catch((error: unknown) =>
					onFailure(
						`the agent could not open the proxy port ${entry.bindPort} again: ${errorMessage(error)}`,
					),
				);
		}
	}

	private describe(entry: ReverseEntry): ProxyInfo {
		return {
			id: entry.id,
			mode: 'reverse',
			bindHost: entry.bindHost,
			bindPort: entry.bindPort,
			state: 'active',
			counters: this.counters(),
		};
	}
}
