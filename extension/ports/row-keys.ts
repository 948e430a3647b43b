import type { PortRowKind } from '../../protocol/webview';

/** The key of a forward (or a proxy) in `ModelInput.origins`, `urls` and `rates`. */
export function forwardKey(agentId: string, forwardId: string): string {
	return `${agentId}|${forwardId}`;
}

/** A row key's middle part per kind: short, as keys travel in every patch and sit in the DOM. */
const KIND_CODES: Readonly<Record<PortRowKind, string>> = {
	local: 'f',
	remote: 'r',
	proxy: 'p',
	detected: 'd',
};

/**
 * A row's key, stable across updates: `agentId|f|forwardId` (local forward), `agentId|r|forwardId`
 * (reverse forward), `agentId|p|proxyId` (proxy), `agentId|d|host:port` (detected port,
 * `host:port` from `listeningPortKey`).
 * PortsViewProvider.reveal takes it.
 */
export function rowKeyOf(agentId: string, kind: PortRowKind, idOrHostPort: string): string {
	return `${agentId}|${KIND_CODES[kind]}|${idOrHostPort}`;
}
