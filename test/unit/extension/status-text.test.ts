import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
	TUNNEL_ICON,
	commandLink,
	describeRemoteAgents,
	describeTunnelStatus,
	type TunnelStatusInput,
} from '../../../extension/status-text';

const on = (clients: number) =>
	({ type: 'on', url: 'ws://127.0.0.1:8765', host: '127.0.0.1', port: 8765, clients }) as const;
const input = (
	agent: TunnelStatusInput['agent'],
	more: Partial<TunnelStatusInput> = {},
): TunnelStatusInput => ({
	agent,
	trusted: true,
	forwards: 0,
	machine: 'devbox',
	...more,
});
const commands = (status: { actions: readonly { command: string }[] }) =>
	status.actions.map((a) => a.command);

describe('the tunnel access status item', () => {
	it('says off, restricted, starting, on with its clients, stopping and error', () => {
		const text = (i: TunnelStatusInput) => describeTunnelStatus(i).text;
		assert.equal(text(input({ type: 'off' })), '$(circle-slash) Berth: off');
		assert.equal(
			text(input({ type: 'off' }, { trusted: false })),
			'$(workspace-untrusted) Berth: restricted',
		);
		assert.equal(text(input({ type: 'starting' })), '$(loading~spin) Berth: starting');
		assert.equal(text(input(on(0))), '$(broadcast) Berth: on');
		assert.equal(text(input(on(1))), '$(broadcast) Berth: on · 1 client');
		assert.equal(text(input(on(2))), '$(broadcast) Berth: on · 2 clients');
		assert.equal(text(input({ type: 'stopping' })), '$(loading~spin) Berth: stopping');
		const error = describeTunnelStatus(input({ type: 'error', message: 'the agent shut down on its own.' }));
		assert.equal(error.text, '$(error) Berth: error');
		assert.equal(error.severity, 'error');
		assert.match(error.tooltip.join(' '), /shut down on its own/);
		assert.deepEqual(commands(error), ['berth.turnOnTunnelAccess', 'berth.showLog']);
	});

	it('never counts the user’s forwards in the item, only in the tooltip', () => {
		for (const agent of [{ type: 'off' } as const, on(1)]) {
			const status = describeTunnelStatus(input(agent, { forwards: 3 }));
			assert.doesNotMatch(status.text, /forward/);
			assert.match(status.tooltip.join('\n'), /Your own forwards through this machine's agent: 3\./);
		}
	});

	it('uses its own icon, not the Ports view’s radio tower', () => {
		assert.equal(TUNNEL_ICON, '$(broadcast)');
		for (const agent of [{ type: 'off' } as const, on(0), on(3)]) {
			assert.doesNotMatch(describeTunnelStatus(input(agent)).text, /radio-tower/);
		}
	});

	it('says where it listens, who can reach it, and who uses it', () => {
		const tooltip = describeTunnelStatus(input(on(2))).tooltip.join('\n');
		assert.match(tooltip, /Tunnel access is on\*\* at `ws:\/\/127\.0\.0\.1:8765`/);
		assert.match(
			tooltip,
			/Loopback only: reach it from another machine with `ssh -L 8765:127\.0\.0\.1:8765 devbox`/,
		);
		assert.match(tooltip, /2 clients are using it: \[Show Clients\]\(command:berth\.showTunnelClients\)/);
		assert.match(describeTunnelStatus(input(on(0))).tooltip.join('\n'), /No other client is using it/);
	});

	it('offers what can act in each state, in one vocabulary', () => {
		assert.deepEqual(commands(describeTunnelStatus(input({ type: 'off' }))), [
			'berth.turnOnTunnelAccess',
			'berth.connect',
			'berth.showLog',
		]);
		assert.deepEqual(commands(describeTunnelStatus(input(on(0)))), [
			'berth.copyAgentUrl',
			'berth.copyAgentToken',
			'berth.showTunnelClients',
			'berth.turnOffTunnelAccess',
			'berth.showLog',
		]);
	});

	it('offers Manage Workspace Trust in Restricted Mode, not a start that cannot work', () => {
		const restricted = describeTunnelStatus(input({ type: 'off' }, { trusted: false }));
		assert.equal(restricted.actions[0]!.label, '$(shield) Manage Workspace Trust');
		assert.equal(restricted.actions[0]!.command, 'workbench.trust.manage');
		assert.ok(!commands(restricted).includes('berth.turnOnTunnelAccess'));
	});
});

describe('the remote agents status item', () => {
	it('is hidden without remote agents', () => {
		assert.equal(describeRemoteAgents([]), undefined);
	});

	it('says the worst state first', () => {
		const agents = [
			{ id: 'ws://a:1', state: { type: 'connected' as const }, forwards: 0 },
			{ id: 'ws://b:2', state: { type: 'reconnecting' as const, attempt: 1, delayMs: 0 }, forwards: 0 },
		];
		assert.equal(describeRemoteAgents(agents.slice(0, 1))?.text, '$(plug) Berth: 1 agent');
		assert.equal(describeRemoteAgents(agents)?.text, '$(sync~spin) Berth: reconnecting');
		assert.equal(
			describeRemoteAgents([
				...agents,
				{ id: 'ws://c:3', state: { type: 'failed', message: 'x' }, forwards: 0 },
			])?.severity,
			'error',
		);
	});

	it('offers Reconnect and Disconnect for the agent they act on', () => {
		const status = describeRemoteAgents([
			{ id: 'ws://b:2', state: { type: 'reconnecting', attempt: 3, delayMs: 5000 }, forwards: 2 },
		]);
		const tooltip = status!.tooltip.join('\n');
		assert.match(tooltip, /`ws:\/\/b:2`: connection lost, trying again in 5 s \(attempt 3\), 2 forwards/);
		assert.ok(tooltip.includes(`[Reconnect](command:${commandLink('berth.reconnect', 'ws://b:2')})`));
		assert.ok(tooltip.includes(`[Disconnect](command:${commandLink('berth.disconnect', 'ws://b:2')})`));
		assert.equal(commandLink('berth.reconnect', 'ws://b:2'), 'berth.reconnect?%5B%22ws%3A%2F%2Fb%3A2%22%5D');
	});

	it('says whether a reconnecting agent holds the connections, and how the last drop ended', () => {
		const status = describeRemoteAgents([
			{
				id: 'ws://a:1',
				state: { type: 'reconnecting', attempt: 2, delayMs: 5000, resuming: true, outageMs: 7000 },
				forwards: 1,
			},
			{
				id: 'ws://b:2',
				state: { type: 'connected', drops: { drops: 1, last: { end: 'resumed', durationMs: 2000 } } },
				forwards: 0,
			},
		]);
		const tooltip = status!.tooltip.join('\n');
		assert.match(
			tooltip,
			/^- `ws:\/\/a:1`: reconnecting \(connections held\), trying again in 5 s \(attempt 2\), 1 forward · /m,
		);
		assert.match(tooltip, /^- `ws:\/\/b:2`: connected, resumed after 2 s, no connection lost · /m);
		assert.equal(status!.text, '$(sync~spin) Berth: reconnecting', 'reconnecting, not disconnected');
		assert.equal(status!.severity, 'warning');
	});

	it('names the user signed in at each agent', () => {
		const status = describeRemoteAgents([
			{ id: 'wss://a:1', state: { type: 'connected' }, forwards: 1, user: 'alice@example.com' },
			{ id: 'ws://b:2', state: { type: 'connected' }, forwards: 0 },
		]);
		const tooltip = status!.tooltip.join('\n');
		assert.match(tooltip, /^- `wss:\/\/a:1` \(signed in as alice@example\.com\): connected, 1 forward · /m);
		assert.match(tooltip, /^- `ws:\/\/b:2`: connected · /m);
		assert.equal(status!.text, '$(plug) Berth: 2 agents');
	});

	it('asks to sign in again for a revoked or expired token, with Sign In and Sign Out, never Reconnect', () => {
		const status = describeRemoteAgents([
			{
				id: 'wss://a:1',
				state: { type: 'failed', message: 'x', tokenProblem: 'revoked' },
				forwards: 1,
				user: 'alice@example.com',
			},
			{ id: 'ws://b:2', state: { type: 'connected' }, forwards: 0 },
		])!;
		const tooltip = status.tooltip.join('\n');
		assert.match(
			tooltip,
			/`wss:\/\/a:1` \(signed in as alice@example\.com\): token revoked: sign in again, 1 forward/,
		);
		assert.ok(tooltip.includes(`[Sign In](command:${commandLink('berth.signIn', 'wss://a:1')})`));
		assert.ok(
			tooltip.includes(`[Init URL](command:${commandLink('berth.connectWithInitUrl', 'wss://a:1')})`),
		);
		assert.ok(tooltip.includes(`[Sign Out](command:${commandLink('berth.signOut', 'wss://a:1')})`));
		assert.ok(!tooltip.includes(commandLink('berth.reconnect', 'wss://a:1')), 'no Reconnect: it cannot help');
		assert.equal(status.text, '$(key) Berth: sign in again');
		assert.equal(status.severity, 'error');
		assert.deepEqual(commands(status).slice(0, 2), ['berth.signIn', 'berth.connectWithInitUrl']);
	});
});
