/**
 * What Sign In to Agent... says, in the words of VS Code's own sign-in (the Accounts menu's
 * "Sign in to …", "Signing in to …", "Signed in as …"): the agents it offers, the one-time code's
 * notification, the progress while the browser approves, and how a sign-in ended. Decisions are
 * made on the client library's codes and reasons (DeviceLoginEnd), never on message text; no CLI
 * command or flag reaches the user. Pure, so every sentence is in a unit table test.
 */

import { BerthError } from '../protocol/errors';
import type { DeviceLoginEnd } from '../server/client/index';
import { describeConnectError, type AgentRef, type ErrorAction, type TokenProblem } from './error-text';

/** The command's title, for its inputs. */
export const SIGN_IN_TITLE = 'Sign In to Agent';
/** The code notification's button: copies the code and opens the agent's approval page. */
export const COPY_AND_OPEN = 'Copy and Open';
/** The pick's last entry: an agent not listed, by its address. */
export const ENTER_ADDRESS_LABEL = '$(edit) Enter an Agent Address...';
/** What the address box says: where to find the agent, in the address step's terms. */
export const ADDRESS_PROMPT =
	"The agent's address: host:port, ws://host:port, or its https:// URL (port 8765 unless it was started on another).";
export const ADDRESS_PLACEHOLDER = 'host:8765, wss://agent.example or https://agent.example';

const SECONDS_PER_MINUTE = 60;
/** Every DeviceLoginEnd, to tell an error's reason for one. */
const DEVICE_LOGIN_ENDS: readonly DeviceLoginEnd[] = [
	'denied',
	'expired',
	'invalid',
	'unsupported',
	'too_many_requests',
	'cancelled',
];

/** A remote Berth agent this window knows (connected, or remembered from before), as the pick shows it. */
export interface KnownAgent {
	readonly id: string;
	/** Whom its current token signs in (a user token's email); undefined for a connection token. */
	readonly user?: string;
	readonly state: 'connected' | 'connecting' | 'reconnecting' | 'failed' | 'saved';
	readonly tokenProblem?: TokenProblem;
}

/** One entry of "Sign in to which Berth agent?". */
export interface AgentPickItem {
	readonly label: string;
	readonly description: string;
	readonly agentId: string;
}

/** The pick's entries: agents whose token was refused first (they need it most), then the others as given. */
export function agentPickItems(agents: readonly KnownAgent[]): AgentPickItem[] {
	const needy = agents.filter((a) => a.tokenProblem !== undefined);
	const others = agents.filter((a) => a.tokenProblem === undefined);
	return [...needy, ...others].map((agent) => ({
		label: agent.id,
		description: describeKnownAgent(agent),
		agentId: agent.id,
	}));
}

function describeKnownAgent(agent: KnownAgent): string {
	if (agent.tokenProblem !== undefined) {
		return `token ${agent.tokenProblem}: sign in again`;
	}
	const who = agent.user ? `signed in as ${agent.user}` : 'with its connection token';
	switch (agent.state) {
		case 'connected':
			return `connected, ${who}`;
		case 'connecting':
			return 'connecting…';
		case 'reconnecting':
			return `reconnecting, ${who}`;
		case 'failed':
			return `disconnected, ${who}`;
		case 'saved':
			return 'not connected';
	}
}

/** The progress notification's title, for the whole sign-in (VS Code: "Signing in to github.com..."). */
export function signingInTitle(agentId: string): string {
	return `Signing in to Berth agent ${agentId}`;
}

/** The progress's message before the agent answered with a code. */
export const ASKING_FOR_CODE = 'asking for a one-time code…';

/** The progress's message while the browser has the code: what to do, and how long it stays valid. */
export function waitingMessage(userCode: string, secondsLeft: number): string {
	return `approve the one-time code ${userCode} in the browser (${timeLeft(secondsLeft)} left)`;
}

/** "10 min" down to "1 min", then seconds. */
export function timeLeft(seconds: number): string {
	const s = Math.max(0, Math.round(seconds));
	return s >= SECONDS_PER_MINUTE ? `${Math.ceil(s / SECONDS_PER_MINUTE)} min` : `${s} s`;
}

/** The code notification, shown with Copy and Open. */
export function codeMessage(agentId: string, userCode: string): string {
	return (
		`Sign in to Berth agent ${agentId}: your one-time code is ${userCode}. ` +
		"Copy it, open the agent's sign-in page and approve this device there."
	);
}

/** Copy and Open clicked once the sign-in had ended (the notification outlives it: VS Code cannot close one). */
export const CODE_OVER =
	'That one-time code is no longer waiting for approval. Run Sign In to Agent... for a new one.';

/** After the sign-in: who this window is on the agent now (VS Code: "Signed in as …"). */
export function signedInMessage(email: string, agentId: string): string {
	return `Signed in as ${email} (Berth agent ${agentId}).`;
}

/** How a sign-in that gave no token ended: DeviceLoginEnd from the error's reason, undefined for any other failure. */
export function signInEndOf(error: unknown): DeviceLoginEnd | undefined {
	const reason = error instanceof BerthError ? error.reason : undefined;
	return DEVICE_LOGIN_ENDS.find((end) => end === reason);
}

/** A sign-in that ended without a token: the sentence, the one action that helps, and whether it is an error at all. */
export interface SignInEndText {
	readonly message: string;
	readonly action: ErrorAction;
	/** `info` for the user's own cancel: nothing went wrong. */
	readonly severity: 'info' | 'error';
}

/** Words for how the sign-in ended; failures that are not the device flow's own are a connection's (error-text.ts). */
export function describeSignInEnd(error: unknown, agent: AgentRef): SignInEndText {
	const fail = (message: string, action: ErrorAction): SignInEndText => ({
		message,
		action,
		severity: 'error',
	});
	const name = `Berth agent ${agent.url}`;
	switch (signInEndOf(error)) {
		case 'cancelled':
			return { message: `Sign-in to ${name} cancelled.`, action: 'none', severity: 'info' };
		case 'denied':
			return fail(`The sign-in to ${name} was denied in the browser.`, 'retry');
		case 'expired':
			return fail(
				`The one-time code for ${name} expired before it was approved. Sign in again for a new code.`,
				'retry',
			);
		case 'invalid':
			return fail(
				`${name} no longer knows this sign-in (it was answered already, or the agent restarted). Sign in again.`,
				'retry',
			);
		case 'unsupported':
			return fail(
				`${agent.url} does not offer sign-in: it is not a Berth agent with accounts. ` +
					'Connect to it with its connection token instead.',
				'connect',
			);
		case 'too_many_requests':
			return fail(
				`${name} gives this address no more one-time codes for now. Try again in a minute.`,
				'retry',
			);
		case undefined: {
			const text = describeConnectError(error, agent);
			return { ...text, severity: 'error' };
		}
	}
}
