import { BerthError } from '../../protocol/errors';
import { isObject, isString } from '../../protocol/guards';
import { isAgentKeyFingerprint } from '../../protocol/init-url';
import type { Timers } from '../../protocol/timers';
import { callAgentApi } from './agent-api';
import type { AgentAddress } from './agent-url';
import type { TlsTrust } from './tls-trust';

/** RFC 8628: a client told to slow down adds this much to its interval. */
const SLOW_DOWN_STEP_S = 5;
/** The interval when the agent names none (RFC 8628's default). */
const DEFAULT_INTERVAL_S = 5;
/** Bounds on what the agent may ask of the poll loop, so a broken answer cannot spin or stall it. */
const MIN_INTERVAL_S = 1;
const MAX_INTERVAL_S = 60;
const MAX_EXPIRES_S = 3_600;
/** The agent's answer when an address asked for too many codes (with Retry-After). */
const HTTP_TOO_MANY_REQUESTS = 429;

/** What `POST /auth/device/code` answered: what the user must do, and what the client polls with. */
export interface DeviceCode {
	readonly deviceCode: string;
	readonly userCode: string;
	readonly verificationUri: string;
	readonly verificationUriComplete?: string;
	readonly expiresInS: number;
	readonly intervalS: number;
}

export interface DeviceLoginOptions {
	/** The agent (ws:// or wss://; its HTTP side answers the device flow). */
	readonly address: AgentAddress;
	/** Named on the approval page ("Allow this device?"). */
	readonly sessionName: string;
	readonly tls?: TlsTrust;
	readonly timers: Timers;
	/** Shows the user the code and where to enter it (and may open the browser). */
	readonly show: (code: DeviceCode) => void;
	/** Called before each poll: the UI's progress. */
	readonly onPoll?: (secondsLeft: number) => void;
	/** Aborts the wait (the user cancelled). */
	readonly signal?: AbortSignal;
}

/** The device flow's result: a user token, whose, and the agent key to pin. */
export interface DeviceLogin {
	readonly token: string;
	readonly email: string;
	/**
	 * The agent key's fingerprint (the poll's `agent_key`), pinned by the login as an init URL's
	 * `k` is: later connections refuse an agent that cannot sign with that key.
	 */
	readonly agentKey?: string;
}

/**
 * Why a device sign-in ended without a token, as `BerthError.reason`, for a UI to word it: the
 * poll's status (`denied`, `expired`, `invalid`: unknown or used), `unsupported` (the agent
 * serves no device flow), `too_many_requests` (it issues no more codes to this address for a
 * while), `cancelled` (the signal aborted).
 */
export type DeviceLoginEnd =
	'denied' | 'expired' | 'invalid' | 'unsupported' | 'too_many_requests' | 'cancelled';

/**
 * The client side of RFC 8628 on a Berth agent: asks for a code, shows it, polls at the interval
 * the agent asked for (slower after `slow_down`) until the user approved, denied, or the code
 * expired.
 * @throws BerthError BERTH_ERR_HANDSHAKE_REFUSED (denied), BERTH_ERR_TIMEOUT (expired),
 *   BERTH_ERR_CONNECT (unreachable, not a Berth agent with accounts), BERTH_ERR_TLS_UNTRUSTED,
 *   BERTH_ERR_CLOSED (aborted); the reason is a DeviceLoginEnd where one applies.
 */
export async function runDeviceLogin(options: DeviceLoginOptions): Promise<DeviceLogin> {
	const code = await requestDeviceCode(options);
	options.show(code);
	const deadline = options.timers.now() + code.expiresInS * 1000;
	let intervalS = code.intervalS;
	for (;;) {
		await sleep(options, intervalS * 1000);
		options.onPoll?.(Math.max(0, Math.round((deadline - options.timers.now()) / 1000)));
		const answer = await callAgentApi(
			options.address,
			undefined,
			'POST',
			'/auth/device/poll',
			{ device_code: code.deviceCode },
			options.tls,
		);
		const status = isObject(answer.body) ? answer.body['status'] : undefined;
		switch (status) {
			case 'pending':
				break;
			case 'slow_down':
				intervalS = Math.min(MAX_INTERVAL_S, intervalS + SLOW_DOWN_STEP_S);
				break;
			case 'complete':
				return parseDeviceCompletion(answer.body);
			case 'denied':
				throw new BerthError(
					'BERTH_ERR_HANDSHAKE_REFUSED',
					'the sign-in was denied in the browser',
					end('denied'),
				);
			case 'expired':
				throw new BerthError(
					'BERTH_ERR_TIMEOUT',
					`the code ${code.userCode} expired before it was approved: run berth login --server again`,
					end('expired'),
				);
			default:
				throw new BerthError(
					'BERTH_ERR_CONNECT',
					`the agent answered the device poll with ${JSON.stringify(status ?? answer.status)}: the code is no longer valid; run berth login --server again`,
					end('invalid'),
				);
		}
	}
}

async function requestDeviceCode(options: DeviceLoginOptions): Promise<DeviceCode> {
	const answer = await callAgentApi(
		options.address,
		undefined,
		'POST',
		'/auth/device/code',
		{ session_name: options.sessionName },
		options.tls,
	);
	const code = answer.status === 200 || answer.status === 201 ? parseDeviceCode(answer.body) : undefined;
	if (answer.status === HTTP_TOO_MANY_REQUESTS) {
		throw new BerthError(
			'BERTH_ERR_CONNECT',
			`${options.address.display} issues no more device codes to this address for now: try again in a minute`,
			end('too_many_requests'),
		);
	}
	if (!code) {
		throw new BerthError(
			'BERTH_ERR_CONNECT',
			`${options.address.display} offers no device sign-in (POST /auth/device/code answered ${answer.status}): ` +
				'is it a Berth agent started with --accounts?',
			end('unsupported'),
		);
	}
	return code;
}

/** Validates the code answer before any of it is shown or used. */
export function parseDeviceCode(body: unknown): DeviceCode | undefined {
	if (!isObject(body)) {
		return undefined;
	}
	const { device_code, user_code, verification_uri, verification_uri_complete, expires_in, interval } = body;
	if (!isString(device_code) || !isString(user_code) || !isString(verification_uri)) {
		return undefined;
	}
	if (!/^https?:\/\//.test(verification_uri) || user_code.length > 32 || device_code.length > 256) {
		return undefined;
	}
	const seconds = (value: unknown, fallback: number, min: number, max: number): number =>
		typeof value === 'number' && Number.isFinite(value) ? Math.min(max, Math.max(min, value)) : fallback;
	return {
		deviceCode: device_code,
		userCode: user_code,
		verificationUri: verification_uri,
		...(isString(verification_uri_complete) && /^https?:\/\//.test(verification_uri_complete)
			? { verificationUriComplete: verification_uri_complete }
			: {}),
		expiresInS: seconds(expires_in, 600, 1, MAX_EXPIRES_S),
		intervalS: seconds(interval, DEFAULT_INTERVAL_S, MIN_INTERVAL_S, MAX_INTERVAL_S),
	};
}

/**
 * The completed poll's answer, checked before it is saved: a token, an email, and the agent key's
 * fingerprint when there is one (an answer with a malformed one is refused rather than saved
 * without its pin).
 * @throws BerthError BERTH_ERR_CONNECT when the answer has no token or no email, or a malformed key.
 */
export function parseDeviceCompletion(body: Record<string, unknown>): DeviceLogin {
	const token = body['access_token'];
	const email = body['user_email'];
	const agentKey = body['agent_key'];
	if (!isString(token) || !isString(email)) {
		throw new BerthError(
			'BERTH_ERR_CONNECT',
			'the agent completed the sign-in without a token: is it a Berth agent?',
		);
	}
	if (agentKey !== undefined && !isAgentKeyFingerprint(agentKey)) {
		throw new BerthError(
			'BERTH_ERR_CONNECT',
			'the agent completed the sign-in with an agent_key that is no key fingerprint: is it a Berth agent?',
		);
	}
	return { token, email, ...(agentKey !== undefined ? { agentKey } : {}) };
}

/** A DeviceLoginEnd as an error's reason (typed here, so a misspelt one does not compile). */
function end(reason: DeviceLoginEnd): string {
	return reason;
}

function sleep(options: DeviceLoginOptions, ms: number): Promise<void> {
	return new Promise((resolve, reject) => {
		if (options.signal?.aborted) {
			reject(new BerthError('BERTH_ERR_CLOSED', 'sign-in cancelled', end('cancelled')));
			return;
		}
		const timer = options.timers.timeout(() => {
			options.signal?.removeEventListener('abort', onAbort);
			resolve();
		}, ms);
		const onAbort = (): void => {
			timer.dispose();
			reject(new BerthError('BERTH_ERR_CLOSED', 'sign-in cancelled', end('cancelled')));
		};
		options.signal?.addEventListener('abort', onAbort, { once: true });
	});
}
