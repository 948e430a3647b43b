/**
 * What the panel shows with no agent: what Berth does and the three ways to start, as buttons
 * (webview views have no `viewsWelcome`, so the webview draws it). Each button runs its command
 * in the host.
 */

import type { FromWebview } from '../protocol/webview';
import { button, element } from './dom';

/** The welcome view: built once, shown or hidden. */
export class Welcome {
	readonly element: HTMLElement;
	private readonly first: HTMLButtonElement;

	constructor(send: (message: FromWebview) => void) {
		this.element = element('section', { className: 'welcome', ariaLabel: 'Get started' });
		const intro = element('p', {
			textContent:
				'No forwarded ports. Turn on tunnel access to forward ports through this machine and let others ' +
				'connect to it, or connect to an agent on another machine to reach its ports from here.',
		});
		this.first = button('Turn On Tunnel Access', () => send({ type: 'turnOnTunnelAccess' }), 'primary');
		const buttons = element('div', { className: 'welcome-buttons' });
		buttons.append(
			this.first,
			button('Connect to Agent...', () => send({ type: 'connect' })),
			button('Forward a Port...', () => send({ type: 'forwardPort' })),
		);
		this.element.append(intro, buttons);
	}

	focus(): void {
		this.first.focus();
	}
}
