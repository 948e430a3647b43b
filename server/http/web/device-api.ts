import { errorMessage } from '../../../protocol/errors';
import { isSessionName } from '../../../protocol/session-name';
import { json } from '../json-api';
import type { DevicePoll } from './device-codes';
import { readFields } from './form-body';
import type { WebContext, WebRequest } from './web-context';

/**
 * The device authorization grant's endpoints (RFC 8628, with the seed's paths and answers), for
 * `berth login --server` and VS Code. Bodies are JSON (or form-encoded, as RFC 8628 has them):
 *
 *     POST /auth/device/code {session_name?}
 *       200 {device_code, user_code, verification_uri, verification_uri_complete, expires_in, interval}
 *       429 {error, code: "too_many_requests"} past the per-address budget (Retry-After)
 *     POST /auth/device/poll {device_code}
 *       200 {status: "pending" | "slow_down" | "expired" | "denied"}
 *       200 {status: "complete", access_token, user_email, user_id, agent_key}   once
 *       400 {status: "invalid"}   unknown, or used already
 *
 * On slow_down a client waits `interval` more (RFC 8628 §3.5). `agent_key` is the agent key's
 * fingerprint, for the client to pin as an init URL's `k` does.
 */

/** A device's token: a client token for the approving user, 30 days. */
export const DEVICE_TOKEN_TTL_MS = 30 * 86_400_000;
export const DEVICE_TOKEN_LIFETIME_WORDS = '30 days';
/** A device code is 43 base64url characters; anything much longer is not one. */
const MAX_DEVICE_CODE_CHARS = 128;
/** The page a person opens (RFC 8628's verification_uri). */
export const DEVICE_PAGE_PATH = '/auth/device';

export async function serveDeviceApi(w: WebRequest, ctx: WebContext): Promise<void> {
	const fields = await readFields(w.req, ctx.timers);
	if (!fields) {
		return json(w.res, 400, { error: 'the body must be a JSON object', code: 'bad_request' });
	}
	return w.url.pathname === '/auth/device/code' ? newCode(w, ctx, fields) : poll(w, ctx, fields);
}

function newCode(w: WebRequest, ctx: WebContext, fields: URLSearchParams): void {
	const budget = ctx.deviceRequests.forSource(w.req.socket.remoteAddress);
	const retryAfterMs = budget.retryAfterMs();
	if (retryAfterMs > 0) {
		w.res.setHeader('Retry-After', String(Math.ceil(retryAfterMs / 1000)));
		ctx.logRefusal('too many device codes asked for from one address', {
			address: w.req.socket.remoteAddress,
		});
		return json(w.res, 429, { error: 'too many device codes from this address', code: 'too_many_requests' });
	}
	const name = fields.get('session_name') ?? '';
	if (name !== '' && !isSessionName(name)) {
		return json(w.res, 400, {
			error: 'session_name has at most 128 characters and no control characters',
			code: 'bad_request',
		});
	}
	// Every code asked for takes one from the address's budget (the throttle counts them as it counts failures).
	budget.recordFailure();
	const code = ctx.devices.create(name);
	const page = w.origin + DEVICE_PAGE_PATH;
	json(w.res, 200, {
		device_code: code.deviceCode,
		user_code: code.userCode,
		verification_uri: page,
		verification_uri_complete: `${page}?code=${encodeURIComponent(code.userCode)}`,
		expires_in: code.expiresInS,
		interval: code.intervalS,
	});
}

async function poll(w: WebRequest, ctx: WebContext, fields: URLSearchParams): Promise<void> {
	const deviceCode = fields.get('device_code') ?? '';
	const result: DevicePoll =
		deviceCode !== '' && deviceCode.length <= MAX_DEVICE_CODE_CHARS
			? ctx.devices.poll(deviceCode)
			: { status: 'invalid' };
	if (result.status !== 'complete') {
		return json(w.res, result.status === 'invalid' ? 400 : 200, { status: result.status });
	}
	const { approval, sessionName } = result;
	try {
		const { jwt, record } = await ctx.tokens.issue({
			email: approval.email,
			userId: approval.userId,
			name: sessionName || 'device',
			role: 'client',
			ttlMs: DEVICE_TOKEN_TTL_MS,
		});
		ctx.log.info('device signed in', { user: record.email, token: record.id, session: sessionName });
		json(w.res, 200, {
			status: 'complete',
			access_token: jwt,
			user_email: record.email,
			user_id: record.userId,
			agent_key: ctx.agentKey.fingerprint,
		});
	} catch (error) {
		// The code is used up: the device starts again.
		json(w.res, 503, { error: `the token could not be issued: ${errorMessage(error)}`, code: 'store' });
	}
}
