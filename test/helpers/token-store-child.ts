/**
 * A process that issues user tokens into a token database, for the durability test, which bundles
 * it with esbuild.mjs's plugin and runs the bundle from a folder with no node_modules (so it also
 * shows that SQLite's WebAssembly and jose travel inside a bundle).
 *
 *     node child.js DB SECRET one       issues one token, prints `ok ID JWT`, then waits to be killed
 *     node child.js DB SECRET stream    issues tokens until killed, printing `ok ID JWT` after each
 *
 * A line is printed only once the insert resolved: what the parent reads is what was reported created.
 */
import { openSqliteTokenStore } from '../../server/auth/sqlite-token-store';
import { UserTokens } from '../../server/auth/user-tokens';

const DAY_MS = 86_400_000;

async function main(): Promise<void> {
	const [path, secret, mode] = process.argv.slice(2);
	if (path === undefined || secret === undefined || (mode !== 'one' && mode !== 'stream')) {
		throw new Error('usage: child DB SECRET one|stream');
	}
	const store = await openSqliteTokenStore(path);
	const tokens = new UserTokens({ store, secret: new TextEncoder().encode(secret) });
	do {
		const { jwt, record } = await tokens.issue({
			email: 'durable@example.com',
			role: 'client',
			ttlMs: DAY_MS,
		});
		process.stdout.write(`ok ${record.id} ${jwt}\n`);
	} while (mode === 'stream');
	setInterval(() => undefined, DAY_MS); // stays, holding the database, until killed
}

main().catch((error: unknown) => {
	process.stderr.write(`${String(error)}\n`);
	process.exit(1);
});
