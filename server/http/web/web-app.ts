import type { IncomingMessage, ServerResponse } from 'node:http';
import { errorMessage } from '../../../protocol/errors';
import { Disposable } from '../../../protocol/lifecycle';
import type { Timers } from '../../../protocol/timers';
import type { AgentKey } from '../../auth/agent-key';
import type { TokenStore } from '../../auth/token-store';
import type { UserTokens } from '../../auth/user-tokens';
import { AuthThrottle, type AuthAttempts } from '../../auth-throttle';
import type { ConnectionToken } from '../../connection-token';
import type { LogFields, Logger } from '../../shared/log';
import { json } from '../json-api';
import { serveDeviceApi } from './device-api';
import { DeviceCodes } from './device-codes';
import { serveDevicePage } from './device-routes';
import { serveSignIn } from './sign-in-routes';
import { serveTokens } from './tokens-routes';
import { TOKENS_SCRIPT, TOKENS_SCRIPT_PATH } from './tokens-script';
import type { WebContext, WebOptions, WebRequest } from './web-context';
import { refuse } from './web-guard';
import { sendAsset } from './web-response';
import { WebSessions } from './web-sessions';
import { WEB_ICON, WEB_ICON_PATH } from './web-icon';
import { WEB_STYLE, WEB_STYLE_PATH } from './web-style';

/** Wrong user codes one address may type in a burst, then one more every USER_CODE_GUESS_REFILL_MS. */
export const USER_CODE_GUESS_BURST = 10;
export const USER_CODE_GUESS_REFILL_MS = 6_000;
/** Device codes one address may ask for in a burst, then one more every DEVICE_CODE_REFILL_MS. */
export const DEVICE_CODE_BURST = 20;
export const DEVICE_CODE_REFILL_MS = 3_000;

export interface WebAppConfig {
	readonly options: WebOptions;
	readonly token: ConnectionToken;
	readonly timers: Timers;
	readonly wallClock: () => number;
	readonly log: Logger;
	readonly tokens: UserTokens;
	readonly store: TokenStore;
	readonly agentKey: AgentKey;
	readonly logRefusal: (message: string, fields: LogFields) => void;
}

/** What one request brings besides itself. */
export interface WebRequestInfo {
	readonly origin: string;
	readonly secure: boolean;
	readonly attempts?: AuthAttempts;
}

/** A route: exact paths, the methods it takes, its handler. */
interface Route {
	readonly paths: readonly string[];
	readonly methods: readonly string[];
	readonly serve: (w: WebRequest, ctx: WebContext) => Promise<void> | void;
	/** Answers JSON (for programs), also when it fails. */
	readonly json?: boolean;
}

const ROUTES: readonly Route[] = [
	{ paths: ['/auth/login'], methods: ['GET', 'POST'], serve: serveSignIn },
	{ paths: ['/auth/callback'], methods: ['GET'], serve: serveSignIn },
	{ paths: ['/auth/logout'], methods: ['POST'], serve: serveSignIn },
	{ paths: ['/tokens'], methods: ['GET', 'POST'], serve: serveTokens },
	{ paths: ['/tokens/revoke'], methods: ['POST'], serve: serveTokens },
	{ paths: ['/auth/device'], methods: ['GET'], serve: serveDevicePage },
	{ paths: ['/auth/device/approve', '/auth/device/deny'], methods: ['POST'], serve: serveDevicePage },
	{ paths: ['/auth/device/code', '/auth/device/poll'], methods: ['POST'], serve: serveDeviceApi, json: true },
	{
		paths: [TOKENS_SCRIPT_PATH],
		methods: ['GET'],
		serve: (w) => sendAsset(w.res, 'text/javascript', TOKENS_SCRIPT),
	},
	{ paths: [WEB_STYLE_PATH], methods: ['GET'], serve: (w) => sendAsset(w.res, 'text/css', WEB_STYLE) },
	{ paths: [WEB_ICON_PATH], methods: ['GET'], serve: (w) => sendAsset(w.res, 'image/svg+xml', WEB_ICON) },
];

/**
 * The agent's web pages for people (`--accounts`): sign-in, the token page, the device flow.
 * It owns their state (browser sessions, device codes, the guess throttles); the agent's
 * request handler hands it the paths it serves (`serves`).
 */
export class WebApp extends Disposable {
	private readonly ctx: WebContext;

	constructor(config: WebAppConfig) {
		super();
		const timers = config.timers;
		this.ctx = {
			...config,
			sessions: new WebSessions({ timers }),
			devices: this._register(
				new DeviceCodes({
					timers,
					...(config.options.deviceCodeTtlMs !== undefined ? { ttlMs: config.options.deviceCodeTtlMs } : {}),
					...(config.options.devicePollIntervalMs !== undefined
						? { intervalMs: config.options.devicePollIntervalMs }
						: {}),
				}),
			),
			codeGuesses: new AuthThrottle({
				timers,
				burst: USER_CODE_GUESS_BURST,
				refillMs: USER_CODE_GUESS_REFILL_MS,
			}),
			deviceRequests: new AuthThrottle({ timers, burst: DEVICE_CODE_BURST, refillMs: DEVICE_CODE_REFILL_MS }),
		};
	}

	/** Whether `path` is one of the web pages' (any method: a wrong one gets 405 here). */
	serves(path: string): boolean {
		return ROUTES.some((route) => route.paths.includes(path));
	}

	/** Answers one request whose path `serves` said yes to. Never throws: a failure is a 500. */
	handle(req: IncomingMessage, res: ServerResponse, info: WebRequestInfo): void {
		const url = new URL(req.url ?? '/', 'http://localhost');
		const route = ROUTES.find((r) => r.paths.includes(url.pathname));
		const w: WebRequest = { req, res, url, ...info };
		if (!route) {
			return refuse(w, 404, 'There is no such page.');
		}
		if (!route.methods.includes(req.method ?? '')) {
			res.setHeader('Allow', route.methods.join(', '));
			const message = `this address takes ${route.methods.join(' or ')} only`;
			return route.json
				? json(res, 405, { error: message, code: 'method_not_allowed' })
				: refuse(w, 405, message);
		}
		Promise.resolve()
			.then(() => route.serve(w, this.ctx))
			.catch((error: unknown) => {
				// The store failed, or a bug: the person learns it, the agent goes on.
				this.ctx.log.error('web page failed', { path: url.pathname, error: errorMessage(error) });
				if (res.headersSent) {
					res.end();
				} else if (route.json) {
					json(res, 500, { error: 'the agent failed: its log says why', code: 'internal' });
				} else {
					refuse(w, 500, 'Something went wrong on the agent: its log says what. Try again.');
				}
			});
	}
}
