/** The panel's HTML: a strict CSP (nothing but our own script, by nonce, and our own stylesheet). */

/** What the page refers to: all of it from the webview's own origin. */
export interface PortsHtmlOptions {
	/** `webview.cspSource`. */
	readonly cspSource: string;
	/** Fresh for every page, from crypto. */
	readonly nonce: string;
	readonly scriptUri: string;
	readonly styleUri: string;
}

/** No inline script or style: the script loads by nonce, the stylesheet from the extension. */
export function renderPortsHtml(options: PortsHtmlOptions): string {
	const csp = [
		"default-src 'none'",
		`style-src ${options.cspSource}`,
		`font-src ${options.cspSource}`,
		`img-src ${options.cspSource}`,
		`script-src 'nonce-${options.nonce}'`,
	].join('; ');
	return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${escapeAttribute(options.styleUri)}">
<title>Remote Port Forwarding</title>
</head>
<body data-vscode-context='{"preventDefaultContextMenuItems":true}'>
<main id="berth-ports" aria-label="Remote Port Forwarding"></main>
<script nonce="${options.nonce}" src="${escapeAttribute(options.scriptUri)}"></script>
</body>
</html>`;
}

function escapeAttribute(text: string): string {
	return text.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
}
