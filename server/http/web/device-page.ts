import { escapeHtml } from '../status-page';
import type { PendingDevice } from './device-codes';
import { csrfInput, renderError, renderPage } from './page-shell';
import type { WebSession } from './web-sessions';

/** The device pages (/auth/device): enter the code, allow or deny, and what came of it. */

/** "Enter the code your device shows", prefilled from `?code=`. */
export function renderDeviceCodePage(session: WebSession, prefill: string, error?: string): string {
	const body = `<h1>Connect a device</h1>
<p class="lead">Enter the code that <code>berth login</code> or VS Code shows on your device.</p>
${renderError(error)}<section class="card narrow"><form method="get" action="/auth/device">
<div class="field"><label for="code">Code</label><input id="code" name="code" class="user-code" required maxlength="32" autocomplete="off" autocapitalize="characters" spellcheck="false" placeholder="ABC-234" value="${escapeHtml(prefill)}" autofocus></div>
<div class="actions"><button type="submit" class="primary">Continue</button></div></form></section>`;
	return renderPage({ title: 'Connect a device', section: 'device', session, body });
}

export interface DeviceConfirmModel {
	readonly session: WebSession;
	readonly device: PendingDevice;
	/** How long ago the device asked, in words ("2 minutes ago"). */
	readonly askedAgo: string;
	/** The token's lifetime in words ("30 days"). */
	readonly lifetime: string;
}

/** "Allow this device?", naming the session the device gave, with Approve and Deny. */
export function renderDeviceConfirmPage(model: DeviceConfirmModel): string {
	const { session, device } = model;
	const hidden = `${csrfInput(session)}<input type="hidden" name="user_code" value="${escapeHtml(device.userCode)}">`;
	const body = `<h1>Allow this device?</h1>
<p class="lead">A device asks to connect to this agent as <strong>${escapeHtml(session.email)}</strong>.</p>
<section class="card narrow"><dl class="facts"><dt>Device</dt><dd>${escapeHtml(device.sessionName || '(no name given)')}</dd>
<dt>Code</dt><dd class="user-code">${escapeHtml(device.userCode)}</dd><dt>Asked</dt><dd>${escapeHtml(model.askedAgo)}</dd></dl>
<p class="warn">Check that your device shows this same code. Approve only a device you started yourself: it gets a token (client, ${escapeHtml(model.lifetime)}) that works until you revoke it on the Tokens page.</p>
<div class="actions"><form method="post" action="/auth/device/approve">${hidden}<button type="submit" class="primary">Approve</button></form>
<form method="post" action="/auth/device/deny">${hidden}<button type="submit">Deny</button></form></div></section>`;
	return renderPage({ title: 'Allow this device?', section: 'device', session, body });
}

/** What the person sees once they answered. */
export function renderDeviceDonePage(session: WebSession, approved: boolean, sessionName: string): string {
	const device = escapeHtml(sessionName || 'The device');
	const body = approved
		? `<h1>Device approved</h1><p class="notice" role="status">${device} is signed in as <strong>${escapeHtml(session.email)}</strong>. You can close this window and return to your device.</p><p>Its token is listed on the <a href="/tokens">Tokens</a> page, where you can revoke it.</p>`
		: `<h1>Device denied</h1><p class="notice" role="status">${device} was not signed in. If you did not start it, nothing more is needed.</p>`;
	return renderPage({
		title: approved ? 'Device approved' : 'Device denied',
		section: 'device',
		session,
		body,
	});
}

/** `45 seconds ago`, `3 minutes ago`. */
export function agoInWords(ms: number): string {
	const seconds = Math.max(0, Math.round(ms / 1000));
	if (seconds < 60) {
		return seconds === 1 ? '1 second ago' : `${seconds} seconds ago`;
	}
	const minutes = Math.round(seconds / 60);
	return minutes === 1 ? '1 minute ago' : `${minutes} minutes ago`;
}
