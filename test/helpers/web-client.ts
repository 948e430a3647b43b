import { request, type IncomingHttpHeaders } from 'node:http';

/** An answer from the agent's web pages. */
export interface WebReply {
	readonly status: number;
	readonly headers: IncomingHttpHeaders;
	readonly text: string;
}

export interface PostOptions {
	/** The Origin header to send: the agent's own by default; null sends none. */
	readonly origin?: string | null;
	/** Send the fields as JSON instead of a form. */
	readonly json?: boolean;
}

/**
 * A browser, as far as the agent's web pages can tell: node's http client with a cookie jar kept
 * by hand (Set-Cookie in, Cookie out; Max-Age=0 drops one), and the agent's Origin on POSTs.
 */
export class WebClient {
	readonly cookies = new Map<string, string>();

	/** `localAddress`: the address to connect from (another loopback address is another source to the agent's throttles). */
	constructor(
		readonly origin: string,
		private readonly localAddress?: string,
	) {}

	get(path: string): Promise<WebReply> {
		return this.send('GET', path, undefined, {});
	}

	/** POSTs `fields` as an HTML form would (or as JSON). */
	post(path: string, fields: Record<string, string>, options: PostOptions = {}): Promise<WebReply> {
		const body = options.json ? JSON.stringify(fields) : new URLSearchParams(fields).toString();
		const origin = options.origin === undefined ? this.origin : options.origin;
		return this.send('POST', path, body, {
			'content-type': options.json ? 'application/json' : 'application/x-www-form-urlencoded',
			...(origin !== null ? { origin } : {}),
		});
	}

	private send(
		method: string,
		path: string,
		body: string | undefined,
		headers: Record<string, string>,
	): Promise<WebReply> {
		const url = new URL(path, this.origin);
		const cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
		return new Promise((resolve, reject) => {
			const req = request(
				{
					host: url.hostname,
					port: url.port,
					method,
					path: url.pathname + url.search,
					...(this.localAddress ? { localAddress: this.localAddress } : {}),
					headers: { ...headers, ...(cookie ? { cookie } : {}) },
				},
				(res) => {
					let text = '';
					res.setEncoding('utf8');
					res.on('data', (chunk: string) => (text += chunk));
					res.on('end', () => {
						this.keep(res.headers['set-cookie'] ?? []);
						resolve({ status: res.statusCode ?? 0, headers: res.headers, text });
					});
				},
			);
			req.on('error', reject);
			req.end(body);
		});
	}

	private keep(setCookies: readonly string[]): void {
		for (const line of setCookies) {
			const [pair = ''] = line.split(';');
			const eq = pair.indexOf('=');
			const name = pair.slice(0, eq).trim();
			if (/;\s*max-age=0(;|$)/i.test(line)) {
				this.cookies.delete(name);
			} else {
				this.cookies.set(name, pair.slice(eq + 1).trim());
			}
		}
	}
}

/** The CSRF token of a page's forms. */
export function csrfOf(html: string): string {
	const match = /name="csrf" value="([^"]+)"/.exec(html);
	if (!match) {
		throw new Error(`no CSRF field in the page:\n${html.slice(0, 500)}`);
	}
	return match[1]!;
}

/** The text of the first <textarea id="ID"> (the values shown once), unescaped. */
export function textareaOf(html: string, id: string): string | undefined {
	const match = new RegExp(`<textarea id="${id}"[^>]*>([^<]*)</textarea>`).exec(html);
	return match?.[1]?.replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code)));
}
