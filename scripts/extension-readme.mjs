// Writes dist/README.md, the README of the .vsix (what VS Code's extension page and registries
// show): the user's part of the repository README (between the extension-readme markers), so it
// starts with what Berth does in VS Code, then how. The repository README keeps its own opening
// (what Berth is, the two commands for a fresh machine).
//
// Images: the .vsix carries them (media/), and `vsce package --no-rewrite-relative-links` keeps
// their links relative, for registries that serve a package's own files. VS Code's extension page
// shows only https images (its sanitizer drops relative image paths, its CSP allows https: and
// data: only; checked in the real workbench), so with BERTH_IMAGES_URL=https://…/ (where media/
// is published, e.g. the repository's raw files) image links point there instead.
// docs/ARCHITECTURE.md, "The extension page", says why.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';

const root = new URL('..', import.meta.url);
const readme = readFileSync(new URL('README.md', root), 'utf8');
const START = '<!-- extension-readme:start -->';
const END = '<!-- extension-readme:end -->';
const from = readme.indexOf(START);
const to = readme.indexOf(END);
if (from < 0 || to < from) {
	console.error(`✘ README.md has no ${START} … ${END} part for the extension page`);
	process.exit(1);
}
const imagesUrl = process.env.BERTH_IMAGES_URL;
if (imagesUrl !== undefined && !/^https:\/\/\S+\/$/.test(imagesUrl)) {
	console.error(`✘ BERTH_IMAGES_URL must be an https:// URL ending in /, not ${JSON.stringify(imagesUrl)}`);
	process.exit(1);
}
const body = readme
	.slice(from + START.length, to)
	.trim()
	// The part sits under "## The VS Code extension": one level up on a page of its own.
	.replace(/^###(#*) /gm, '##$1 ')
	.replace(/(!\[[^\]]*\]\()(?!https?:)([^)\s]+)\)/g, (_, head, path) => `${head}${imagesUrl ?? ''}${path})`);
const page = `# Berth

${body}

## More

Berth is also a command line: \`berth server\` runs the agent on a remote host (one JavaScript
file, plain Node.js 20), and \`berth forward -L/-R\` forwards ports without VS Code. The
repository's README has both, its security notes, and how each rule is enforced.
`;
mkdirSync(new URL('dist/', root), { recursive: true });
writeFileSync(new URL('dist/README.md', root), page);
console.log(`dist/README.md ${(page.length / 1024).toFixed(1)} KiB (the extension page)`);
