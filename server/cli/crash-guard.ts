import { errorMessage } from '../../protocol/errors';
import { setUnexpectedErrorHandler, toDisposable, type IDisposable } from '../../protocol/lifecycle';
import type { Logger } from '../shared/log';

/**
 * The CLI's last line of defence: an error nobody expected (a listener that threw, a rejected
 * promise nobody awaited, an exception out of a socket callback) is logged with its stack, and
 * the process goes on. Sessions contain their own errors first (a throwing handler fails only its
 * session, a throwing bridge resets only its connection); this catches what escapes them, so one
 * bug cannot end every other client's connections. VS Code's servers do the same
 * (`onUnexpectedError`).
 */
export function installCrashGuard(log: Logger): IDisposable {
	const report =
		(what: string) =>
		(error: unknown): void =>
			log.error(`${what} (contained; Berth goes on)`, {
				error: errorMessage(error),
				stack: error instanceof Error ? error.stack : undefined,
			});
	const unexpected = setUnexpectedErrorHandler(report('unexpected error'));
	const onException = report('uncaught exception');
	const onRejection = report('unhandled promise rejection');
	process.on('uncaughtException', onException);
	process.on('unhandledRejection', onRejection);
	return toDisposable(() => {
		unexpected.dispose();
		process.off('uncaughtException', onException);
		process.off('unhandledRejection', onRejection);
	});
}
