import { createMuxArgs } from '../../protocol/mux-frames';
import { ConnectionType } from '../../protocol/wire';
import { dial, type AgentEndpoint } from './dial';

/**
 * Whether the agent accepts the endpoint's token, found the only sure way: one connection through
 * the whole handshake (the agent checks the token, and proves itself as it does for every
 * client), then closed. For `berth login`, before a token is saved.
 * @throws BerthError as `dial` does: BERTH_ERR_HANDSHAKE_REFUSED with the agent's reason (a
 * wrong, revoked or expired token), BERTH_ERR_SERVER_UNVERIFIED, or unreachable.
 */
export async function checkAgentAcceptsToken(endpoint: AgentEndpoint): Promise<void> {
	const { transport } = await dial(endpoint, {
		connectionType: ConnectionType.Mux,
		args: createMuxArgs(endpoint.sessionName),
	});
	transport.dispose();
}
