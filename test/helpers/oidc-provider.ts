import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { decodeJwt, exportJWK, generateKeyPair, SignJWT, type JWK, type JWTPayload } from 'jose';
import { Provider, type KoaContext } from 'oidc-provider';

/** A user of the test provider. `emailVerified` undefined: the claim is left out of the ID token. */
export interface TestOidcUser {
	readonly email: string;
	readonly emailVerified?: boolean;
}

/** The users every test provider has: one of each case the agent must tell apart. */
export const TEST_OIDC_USERS = {
	alice: { email: 'alice@example.com', emailVerified: true },
	bob: { email: 'bob@other.test', emailVerified: true },
	carol: { email: 'carol@example.com', emailVerified: false },
	dave: { email: 'dave@example.com' },
} as const satisfies Record<string, TestOidcUser>;

/**
 * How the provider's token responses are tampered with, as an attacker between the agent and the
 * token endpoint would (or a provider that misbehaves): each ID token's claims are rewritten by
 * `claims`, then signed again, with the provider's own key (`provider`: a valid signature over
 * wrong claims) or with a key the agent has never seen under the provider's key id (`other`).
 */
export interface IdTokenForgery {
	readonly claims?: (claims: JWTPayload) => JWTPayload;
	readonly key: 'provider' | 'other';
}

const SIGNING_ALG = 'RS256';
const PROVIDER_KID = 'test-provider-key';
/** The longest form body the login page reads (4 KiB). */
const MAX_FORM_BYTES = 4096;

/**
 * A real OpenID Connect provider (the `oidc-provider` package) on a free loopback port, for tests:
 * one confidential client (`client_secret_basic`, PKCE required), the TEST_OIDC_USERS, and a login
 * page a test completes with plain HTTP or a browser:
 *
 *     GET  /interaction/UID        a form: <input name=email> and two buttons, "Sign in" / "Cancel"
 *     POST /interaction/UID        email=alice@example.com   signs in and consents (openid email)
 *                                  action=cancel              ends with access_denied
 *
 * Redirect URIs are the ones given, plus any `allowRedirectUri()` adds later (the agent's port is
 * often known only once it listens, after it discovered this provider).
 */
export class TestOidcProvider {
	readonly clientId = 'berth-agent';
	readonly clientSecret = randomBytes(32).toString('base64url');
	private readonly redirectUris = new Set<string>();
	private forgery: IdTokenForgery | undefined;
	private readonly sockets = new Set<Socket>();

	private constructor(
		private readonly server: Server,
		readonly issuer: string,
		private readonly providerKey: { readonly privateKey: CryptoKey },
		private readonly otherKey: { readonly privateKey: CryptoKey },
	) {
		server.on('connection', (socket) => {
			this.sockets.add(socket);
			socket.on('close', () => this.sockets.delete(socket));
		});
	}

	/** Starts the provider on 127.0.0.1 and a port the OS picks. */
	static async start(options: { redirectUris?: readonly string[] } = {}): Promise<TestOidcProvider> {
		let handler: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => res.end();
		const server = createServer((req, res) => handler(req, res));
		await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
		const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
		const providerKey = await generateKeyPair(SIGNING_ALG, { extractable: true });
		const otherKey = await generateKeyPair(SIGNING_ALG);
		const self = new TestOidcProvider(server, issuer, providerKey, otherKey);
		options.redirectUris?.forEach((uri) => self.allowRedirectUri(uri));
		const jwk: JWK = {
			...(await exportJWK(providerKey.privateKey)),
			kid: PROVIDER_KID,
			alg: SIGNING_ALG,
			use: 'sig',
		};
		const provider = self.createProvider(jwk);
		const serveProvider = provider.callback();
		handler = (req, res) => {
			if ((req.url ?? '').startsWith('/interaction/')) {
				self.serveInteraction(provider, req, res).catch((error: unknown) => {
					res.writeHead(500, { 'Content-Type': 'text/plain' });
					res.end(`interaction failed: ${String(error)}\n`);
				});
			} else {
				serveProvider(req, res);
			}
		};
		return self;
	}

	/** Lets the client use this redirect URI too (e.g. the agent's origin + /auth/callback). */
	allowRedirectUri(uri: string): void {
		this.redirectUris.add(uri);
	}

	/** Tampers with every ID token from now on; undefined stops it. */
	forgeIdTokens(forgery: IdTokenForgery | undefined): void {
		this.forgery = forgery;
	}

	async stop(): Promise<void> {
		for (const socket of this.sockets) {
			socket.destroy();
		}
		await new Promise<void>((resolve) => this.server.close(() => resolve()));
	}

	private createProvider(jwk: JWK): Provider {
		const provider = new Provider(this.issuer, {
			clients: [
				{
					client_id: this.clientId,
					client_secret: this.clientSecret,
					// The real list is this.redirectUris (redirectUriAllowed below); the schema wants one.
					redirect_uris: ['http://127.0.0.1/auth/callback'],
					grant_types: ['authorization_code'],
					response_types: ['code'],
					token_endpoint_auth_method: 'client_secret_basic',
				},
			],
			jwks: { keys: [jwk] },
			findAccount: (_ctx: unknown, sub: string) => accountFor(sub),
			claims: { openid: ['sub'], email: ['email', 'email_verified'] },
			features: { devInteractions: { enabled: false }, claimsParameter: { enabled: true } },
			interactions: {
				url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}`,
			},
			pkce: { required: () => true },
			responseTypes: ['code'],
			cookies: { keys: [randomBytes(32).toString('base64url')] },
			clientBasedCORS: () => false,
			adapter: memoryAdapter(new Map()),
			ttl: {
				AccessToken: 600,
				AuthorizationCode: 60,
				IdToken: 600,
				Interaction: 600,
				Session: 3600,
				Grant: 3600,
			},
		});
		const uris = this.redirectUris;
		provider.Client.prototype.redirectUriAllowed = (value: string) => uris.has(value);
		provider.use(async (ctx, next) => {
			await next();
			await this.tamper(ctx);
		});
		return provider;
	}

	/** Rewrites the token endpoint's answer when a forgery is set. */
	private async tamper(ctx: KoaContext): Promise<void> {
		const body = ctx.body as { id_token?: unknown } | undefined;
		const forgery = this.forgery;
		if (ctx.path !== '/token' || !forgery || typeof body?.id_token !== 'string') {
			return;
		}
		const claims = (forgery.claims ?? ((c: JWTPayload) => c))(decodeJwt(body.id_token));
		const key = forgery.key === 'provider' ? this.providerKey.privateKey : this.otherKey.privateKey;
		const idToken = await new SignJWT(claims)
			.setProtectedHeader({ alg: SIGNING_ALG, kid: PROVIDER_KID })
			.sign(key);
		ctx.body = { ...body, id_token: idToken };
	}

	private async serveInteraction(
		provider: Provider,
		req: IncomingMessage,
		res: ServerResponse,
	): Promise<void> {
		const details = await provider.interactionDetails(req, res);
		if (req.method === 'GET') {
			res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
			res.end(loginPage(details.uid));
			return;
		}
		const form = new URLSearchParams(await readBody(req));
		if (form.get('action') === 'cancel') {
			await provider.interactionFinished(req, res, {
				error: 'access_denied',
				error_description: 'the user cancelled the sign-in',
			});
			return;
		}
		const account = accountFor(subjectOf(form.get('email') ?? ''));
		if (!account) {
			res.writeHead(400, { 'Content-Type': 'text/plain; charset=utf-8' });
			res.end('No such user.\n');
			return;
		}
		const grant = new provider.Grant({
			accountId: account.accountId,
			clientId: String(details.params['client_id']),
		});
		grant.addOIDCScope('openid email');
		grant.addOIDCClaims(['email', 'email_verified']);
		const grantId = await grant.save();
		await provider.interactionFinished(
			req,
			res,
			{ login: { accountId: account.accountId }, consent: { grantId } },
			{ mergeWithLastSubmission: false },
		);
	}
}

type AdapterPayload = Record<string, unknown> & { uid?: string; userCode?: string; grantId?: string };

/**
 * oidc-provider's storage for its sessions, codes and grants: a Map that lives as long as the
 * provider (its own in-memory adapter does the same, with a warning on every start).
 */
function memoryAdapter(store: Map<string, AdapterPayload>) {
	return (model: string) => {
		const key = (id: string) => `${model}:${id}`;
		const findBy = (field: 'uid' | 'userCode', value: string) =>
			[...store.entries()].find(([k, p]) => k.startsWith(`${model}:`) && p[field] === value)?.[1];
		return {
			upsert: async (id: string, payload: AdapterPayload) => void store.set(key(id), payload),
			find: async (id: string) => store.get(key(id)),
			findByUid: async (uid: string) => findBy('uid', uid),
			findByUserCode: async (userCode: string) => findBy('userCode', userCode),
			consume: async (id: string) => {
				const payload = store.get(key(id));
				if (payload) {
					payload['consumed'] = Math.floor(Date.now() / 1000);
				}
			},
			destroy: async (id: string) => void store.delete(key(id)),
			revokeByGrantId: async (grantId: string) => {
				for (const [k, p] of store) {
					if (p.grantId === grantId) {
						store.delete(k);
					}
				}
			},
		};
	};
}

/** A user's subject identifier: stable, and not the email (as real providers do). */
function subjectOf(email: string): string {
	return `user-${email.toLowerCase()}`;
}

function accountFor(sub: string): { accountId: string; claims(): Record<string, unknown> } | undefined {
	const user = Object.values(TEST_OIDC_USERS).find((u: TestOidcUser) => subjectOf(u.email) === sub) as
		TestOidcUser | undefined;
	if (!user) {
		return undefined;
	}
	return {
		accountId: sub,
		claims: () => ({
			sub,
			email: user.email,
			...(user.emailVerified !== undefined ? { email_verified: user.emailVerified } : {}),
		}),
	};
}

function loginPage(uid: string): string {
	return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Test provider: sign in</title></head>
<body><h1>Sign in to the test provider</h1>
<form method="post" action="/interaction/${encodeURIComponent(uid)}">
<label>Email <input id="email" name="email" type="email" autofocus></label>
<button type="submit" name="action" value="login">Sign in</button>
<button type="submit" name="action" value="cancel">Cancel</button>
</form></body></html>`;
}

async function readBody(req: IncomingMessage): Promise<string> {
	let body = '';
	for await (const chunk of req) {
		body += String(chunk);
		if (body.length > MAX_FORM_BYTES) {
			throw new Error('form too large');
		}
	}
	return body;
}
