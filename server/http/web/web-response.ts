import type { ServerResponse } from 'node:http';

/**
 * How the web pages answer. Every page is sent with a strict Content-Security-Policy: nothing
 * inline, scripts and styles from the agent only, forms post to the agent only, never framed.
 * `Referrer-Policy: same-origin` (the agent's other answers say `no-referrer`) lets browsers
 * send the real `Origin` on the pages' own POSTs, which csrf.ts checks; other sites still get
 * no Referer.
 */
export const WEB_CSP =
	"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/** Sends an HTML page. */
export function sendPage(res: ServerResponse, status: number, html: string): void {
	res.setHeader('Content-Security-Policy', WEB_CSP);
	res.setHeader('Referrer-Policy', 'same-origin');
	res.setHeader('X-Frame-Options', 'DENY');
	res.setHeader('Content-Type', 'text/html; charset=utf-8');
	res.writeHead(status);
	res.end(html);
}

/** 303 See Other: after a POST, and to send a browser to sign in. `location` is a path on the agent. */
export function redirect(res: ServerResponse, location: string): void {
	res.setHeader('Location', location);
	res.setHeader('Content-Type', 'text/plain; charset=utf-8');
	res.writeHead(303);
	res.end(`See ${location}\n`);
}

/** A static asset (the stylesheet, the script), cacheable by nobody: the agent may be upgraded. */
export function sendAsset(res: ServerResponse, contentType: string, text: string): void {
	res.setHeader('Content-Type', `${contentType}; charset=utf-8`);
	res.writeHead(200);
	res.end(text);
}
