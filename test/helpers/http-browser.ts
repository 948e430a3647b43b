import { request, type IncomingHttpHeaders } from 'node:http';

/** One answer, as a browser sees it before it follows a redirect. */
export interface BrowserResponse {
	readonly url: string;
	readonly status: number;
	readonly headers: IncomingHttpHeaders;
	/** The Location header resolved against `url`, when there is one. */
	readonly location?: string;
	readonly body: string;
}

interface StoredCookie {
	readonly name: string;
	readonly value: string;
	/** Cookies belong to a host, not a port (RFC 6265), as in a real browser. */
	readonly host: string;
	readonly path: string;
}

/** Redirects a browser follows before it gives up (Chromium's limit is 20). */
const MAX_REDIRECTS = 20;

/**
 * A browser reduced to what sign-in needs: plain HTTP (http:// only) with a cookie jar (host and
 * path scoped, Max-Age honoured) and redirects followed by hand, so a test can stop at any hop,
 * read it, change it or replay it. One instance is one browser: two instances share no cookies.
 */
export class HttpBrowser {
	private cookies: StoredCookie[] = [];

	/** GET `url` once, without following a redirect. */
	get(url: string): Promise<BrowserResponse> {
		return this.send('GET', url);
	}

	/** POST a form to `url` once (application/x-www-form-urlencoded). */
	post(url: string, form: Record<string, string>): Promise<BrowserResponse> {
		return this.send('POST', url, new URLSearchParams(form).toString());
	}

	/**
	 * GET `url` and follow redirects until an answer that is not one, or until the next hop's URL
	 * passes `stopBefore` (that hop is not requested: its URL is the answer's `location`).
	 */
	async follow(url: string, stopBefore: (next: string) => boolean = () => false): Promise<BrowserResponse> {
		let response = await this.get(url);
		for (let hops = 0; response.location !== undefined && isRedirect(response.status); hops++) {
			if (hops >= MAX_REDIRECTS || stopBefore(response.location)) {
				return response;
			}
			response = await this.get(response.location);
		}
		return response;
	}

	/** The names of the cookies this browser would send to `url`. */
	cookieNames(url: string): string[] {
		return this.matching(new URL(url)).map((c) => c.name);
	}

	/** The value of a cookie this browser would send to `url`, or undefined. */
	cookieFor(url: string, name: string): string | undefined {
		return this.matching(new URL(url)).find((c) => c.name === name)?.value;
	}

	private send(method: string, url: string, body?: string): Promise<BrowserResponse> {
		const target = new URL(url);
		const cookie = this.matching(target)
			.map((c) => `${c.name}=${c.value}`)
			.join('; ');
		const headers: Record<string, string> = { Host: target.host, ...(cookie ? { Cookie: cookie } : {}) };
		if (body !== undefined) {
			headers['Content-Type'] = 'application/x-www-form-urlencoded';
			headers['Content-Length'] = String(Buffer.byteLength(body));
		}
		return new Promise((resolve, reject) => {
			const req = request(target, { method, headers }, (res) => {
				let text = '';
				res.setEncoding('utf8');
				res.on('data', (chunk: string) => (text += chunk));
				res.on('end', () => {
					this.store(target, res.headers['set-cookie'] ?? []);
					const location = res.headers.location;
					resolve({
						url,
						status: res.statusCode ?? 0,
						headers: res.headers,
						...(location !== undefined ? { location: new URL(location, target).href } : {}),
						body: text,
					});
				});
			});
			req.on('error', reject);
			req.end(body);
		});
	}

	private matching(target: URL): StoredCookie[] {
		return this.cookies.filter((c) => c.host === target.hostname && pathMatches(target.pathname, c.path));
	}

	private store(target: URL, setCookies: readonly string[]): void {
		for (const line of setCookies) {
			const [pair = '', ...attributes] = line.split(';').map((part) => part.trim());
			const eq = pair.indexOf('=');
			if (eq <= 0) {
				continue;
			}
			const name = pair.slice(0, eq);
			const attribute = (key: string) =>
				attributes.find((a) => a.toLowerCase().startsWith(`${key}=`))?.slice(key.length + 1);
			const path = attribute('path') ?? defaultPath(target.pathname);
			const maxAge = attribute('max-age');
			const expires = attribute('expires');
			const gone =
				(maxAge !== undefined && Number(maxAge) <= 0) ||
				(expires !== undefined && Date.parse(expires) <= Date.now());
			this.cookies = this.cookies.filter(
				(c) => !(c.name === name && c.host === target.hostname && c.path === path),
			);
			if (!gone) {
				this.cookies.push({ name, value: pair.slice(eq + 1), host: target.hostname, path });
			}
		}
	}
}

function isRedirect(status: number): boolean {
	return status === 301 || status === 302 || status === 303 || status === 307 || status === 308;
}

/** RFC 6265 5.1.4: a cookie's path covers itself and what lies below it. */
function pathMatches(requestPath: string, cookiePath: string): boolean {
	return (
		requestPath === cookiePath ||
		(requestPath.startsWith(cookiePath) &&
			(cookiePath.endsWith('/') || requestPath[cookiePath.length] === '/'))
	);
}

/** RFC 6265 5.1.4: without a Path, the request's directory. */
function defaultPath(requestPath: string): string {
	const slash = requestPath.lastIndexOf('/');
	return slash <= 0 ? '/' : requestPath.slice(0, slash);
}
