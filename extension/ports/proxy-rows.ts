import type { ProxyRow } from '../../protocol/webview';
import type { AgentInput, ModelInput } from './ports-model';
import { forwardKey, rowKeyOf } from './row-keys';
import { agentName, offlineProblem } from './row-problem';

/** The words for a proxy's mode: its row's label, so the Port column reads `SOCKS proxy (1080)`. */
const PROXY_LABELS: Readonly<Record<ProxyRow['mode'], string>> = {
	socks: 'SOCKS proxy',
	share: 'Shared network',
};

/**
 * An agent's proxy rows: a forward-mode proxy (`socks`: listens here, traffic leaves from the
 * agent), then this machine's network shared on the agent (`share`), each by port.
 */
export function proxyRows(agent: AgentInput, input: ModelInput): ProxyRow[] {
	const problem = offlineProblem(agent);
	return agent.proxies
		.filter((p) => p.state !== 'closed')
		.sort((a, b) => Number(a.mode === 'reverse') - Number(b.mode === 'reverse') || a.bindPort - b.bindPort)
		.map((proxy): ProxyRow => {
			const mode = proxy.mode === 'forward' ? 'socks' : 'share';
			const rate = input.rates?.get(forwardKey(agent.id, proxy.id));
			return {
				kind: 'proxy',
				key: rowKeyOf(agent.id, 'proxy', proxy.id),
				agentId: agent.id,
				host: proxy.bindHost,
				port: proxy.bindPort,
				label: PROXY_LABELS[mode],
				forwardId: proxy.id,
				origin: 'user',
				state: 'active',
				openConnections: proxy.counters.open,
				totalConnections: proxy.counters.total,
				bytesIn: proxy.counters.bytesIn,
				bytesOut: proxy.counters.bytesOut,
				rateIn: rate?.rateIn ?? 0,
				rateOut: rate?.rateOut ?? 0,
				...(proxy.counters.lastError !== undefined ? { lastError: proxy.counters.lastError } : {}),
				...(problem ? { problem } : {}),
				mode,
				exit: mode === 'socks' ? agentName(agent) : 'this machine',
			};
		});
}
