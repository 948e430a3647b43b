/**
 * Berth's client library, shared by the CLI (`berth forward`) and the VS Code extension: connect
 * to an agent, verify it, speak Management RPC across network drops, and forward ports.
 */

export { parseAgentUrl, isSameAgent, type AgentAddress } from './agent-url';
export { AgentConnection, type ConnectionState, type ClientRpc } from './agent-connection';
export { reconnectDelayMs } from './retry';
export { runClientHandshake, type PeerKind, type ClientHandshakeOptions } from './client-handshake';
export { dial, type AgentEndpoint, type DialOptions, type DialedConnection } from './dial';
export {
	parseLocalForwardSpec,
	formatLocalForwardSpec,
	DEFAULT_BIND_ADDRESS,
	type LocalForwardSpec,
	type DynamicForwardSpec,
} from './forward-spec';
export { LocalForward, type TunnelOpener } from './local-forward';
export { type LinkState, UNREACHABLE_WHILE_RECONNECTING } from './link-state';
export { type Forwarder, type ForwardFailure } from './forwarder';
export { TunnelForwarder } from './tunnel-forwarder';
export { StreamForwarder, type ForwarderState } from './stream-forwarder';
export type { ProxyInfo, ProxyMode } from './proxy-info';
export { StreamSession } from './stream-session';
export { listenLocal } from './local-listener';
export { openTransport, type TransportMode } from './open-transport';
export { fetchAgentCommit } from './fetch-commit';
export { type TlsTrust } from './tls-trust';
export { createNodeTimers } from '../shared/transport/node-timers';
export { OwnForwards, agentNetworkOf, type OwnForwardReservation } from './own-forwards';
export { SessionApi, type PortsChange } from './session-api';
export { computeNetworkIdentity } from '../shared/network-identity';
export { bindHosts } from './forward-loop';
export {
	readLoginConfig,
	findSavedLogin,
	saveLogin,
	removeLogin,
	removeAllLogins,
	touchLogin,
	describeLogin,
	type LoginConfig,
	type SavedLogin,
	type FoundLogin,
} from './login-config';
export { readTokenClaims, type TokenClaims } from './token-claims';
export { checkAgentAcceptsToken } from './check-token';
export {
	runDeviceLogin,
	type DeviceCode,
	type DeviceLogin,
	type DeviceLoginEnd,
	type DeviceLoginOptions,
} from './device-login';
export { SshAgentTunnel, type SshConnectOptions, type SshTunnelState } from './ssh/ssh-agent-tunnel';
export { stopAgentOverSsh, type SshStopOptions } from './ssh/stop-agent-over-ssh';
export { readAgentBundle, type AgentBundle } from './ssh/agent-bundle';
export { parseSshTarget, formatSshTarget, type SshTarget } from './ssh/ssh-target';
export { sshHostKey, type SshTokenStore, type SshAgentToken } from './ssh/ssh-token-store';
export type { SshProgress } from './ssh/host-dialogue';
export type { SshCommandOptions } from './ssh/ssh-host-process';
