import { setMaxListeners } from 'node:events';

/**
 * An AbortController for all the connects a session or forward has under way: aborting it gives
 * them all up at once. Each connect in progress listens on its signal, and a browser behind a
 * forward may start hundreds at once, so the signal has no listener limit (Node would warn past 10).
 */
export function createConnectCanceller(): AbortController {
	const controller = new AbortController();
	setMaxListeners(0, controller.signal);
	return controller;
}
