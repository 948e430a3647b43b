/** `host:port` with an IPv6 address in brackets (`[::1]:22`), as URLs and ssh write it. */
export function formatHostPort(host: string | undefined, port: number | string | undefined): string {
	const h = host ?? '?';
	return `${h.includes(':') ? `[${h}]` : h}:${port ?? '?'}`;
}

/** A host as it goes before `:port` or in a URL: an IPv6 address in brackets. */
export function bracketHost(host: string): string {
	return host.includes(':') ? `[${host}]` : host;
}
