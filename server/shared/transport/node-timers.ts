import { toDisposable } from '../../../protocol/lifecycle';
import type { Timers } from '../../../protocol/timers';

/** Node's timers behind protocol/'s Timers interface. */
export function createNodeTimers(): Timers {
	return {
		now: () => performance.now(),
		timeout(fn, ms) {
			const handle = setTimeout(fn, ms);
			return toDisposable(() => clearTimeout(handle));
		},
		interval(fn, ms) {
			const handle = setInterval(fn, ms);
			return toDisposable(() => clearInterval(handle));
		},
	};
}
