import {
	agoInWords,
	renderDeviceCodePage,
	renderDeviceConfirmPage,
	renderDeviceDonePage,
} from './device-page';
import { DEVICE_TOKEN_LIFETIME_WORDS } from './device-api';
import { normalizeUserCode } from './user-code';
import type { WebContext, WebRequest } from './web-context';
import { readPostedForm, requireSession } from './web-guard';
import { sendPage } from './web-response';
import type { WebSession } from './web-sessions';

/**
 * The device page, where a person answers a device's request (RFC 8628 §3.3), signed in first:
 * - `GET /auth/device[?code=ABC-234]`: the code form, or with a code, "Allow this device?";
 * - `POST /auth/device/approve` and `/auth/device/deny` (user_code): the answer.
 * Wrong codes count per source address; past the burst every code is refused for a while.
 */
export async function serveDevicePage(w: WebRequest, ctx: WebContext): Promise<void> {
	const session = requireSession(w, ctx);
	if (!session) {
		return;
	}
	if (w.req.method === 'GET') {
		return showDevice(w, ctx, session);
	}
	const form = await readPostedForm(w, ctx, session);
	if (form) {
		answer(w, ctx, session, form.get('user_code') ?? '', w.url.pathname === '/auth/device/approve');
	}
}

function showDevice(w: WebRequest, ctx: WebContext, session: WebSession): void {
	const typed = w.url.searchParams.get('code');
	if (typed === null || typed.trim() === '') {
		return sendPage(w.res, 200, renderDeviceCodePage(session, ''));
	}
	const guesses = ctx.codeGuesses.forSource(w.req.socket.remoteAddress);
	const retryAfterMs = guesses.retryAfterMs();
	if (retryAfterMs > 0) {
		const seconds = Math.ceil(retryAfterMs / 1000);
		w.res.setHeader('Retry-After', String(seconds));
		return sendPage(
			w.res,
			429,
			renderDeviceCodePage(
				session,
				typed,
				`Too many wrong codes from this address: try again in ${seconds} s.`,
			),
		);
	}
	const code = normalizeUserCode(typed);
	const device = code !== undefined ? ctx.devices.pending(code) : undefined;
	if (!device) {
		if (guesses.recordFailure() > 0) {
			ctx.logRefusal('too many wrong device codes from one address', { address: w.req.socket.remoteAddress });
		}
		const error =
			'That code is not valid, or it has expired or been answered already: check the code your device shows.';
		return sendPage(w.res, 400, renderDeviceCodePage(session, typed, error));
	}
	const askedAgo = agoInWords(ctx.timers.now() - device.createdAt);
	sendPage(
		w.res,
		200,
		renderDeviceConfirmPage({ session, device, askedAgo, lifetime: DEVICE_TOKEN_LIFETIME_WORDS }),
	);
}

function answer(w: WebRequest, ctx: WebContext, session: WebSession, typed: string, approve: boolean): void {
	const code = normalizeUserCode(typed);
	const device = code !== undefined ? ctx.devices.pending(code) : undefined;
	const done =
		code !== undefined && device !== undefined
			? approve
				? ctx.devices.approve(code, { email: session.email, userId: session.userId })
				: ctx.devices.deny(code)
			: false;
	if (!done || !device) {
		const error = 'That request has expired or was answered already. Start again on your device.';
		return sendPage(w.res, 400, renderDeviceCodePage(session, '', error));
	}
	ctx.log.info(approve ? 'device approved' : 'device denied', {
		user: session.email,
		session: device.sessionName,
	});
	sendPage(w.res, 200, renderDeviceDonePage(session, approve, device.sessionName));
}
