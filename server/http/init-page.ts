import { escapeHtml } from './status-page';

/**
 * What `GET /p/…` answers: a person who opened an init URL in a browser learns what to do with
 * it: the command to run, with the URL (whoever sees the page has the URL already). The agent
 * never logs the path, and the answer is not cached nor sent on as a referrer.
 */
export function renderInitPage(initUrl: string): string {
	const command = `berth login --init '${initUrl}'`;
	return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Berth: log in</title>
<style>body{font:15px system-ui,sans-serif;margin:2em;max-width:46em;color:#222}code{display:block;padding:.8em;background:#f3f3f3;border-radius:4px;word-break:break-all;font:13px ui-monospace,monospace}</style>
</head><body><h1>Log in to this Berth agent</h1>
<p>This address is an init URL: it holds a token for you. Keep it secret, like a password.</p>
<p>On the machine you will connect from, run this in the folder you work in:</p>
<code>${escapeHtml(command)}</code>
<p>Or, in VS Code, run <b>Berth: Connect with Init URL...</b> and paste this page's address.</p>
</body></html>
`;
}
