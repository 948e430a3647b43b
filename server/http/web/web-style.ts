/**
 * The web pages' one stylesheet, served as /berth.css (the CSP allows styles from the agent only,
 * never inline). Plain CSS: system fonts, light and dark, a visible focus ring for the keyboard.
 */
export const WEB_STYLE_PATH = '/berth.css';

export const WEB_STYLE = `:root {
	color-scheme: light dark;
	--bg: #f6f7f9; --fg: #1d2330; --muted: #5b6475; --card: #fff; --line: #dde1e8;
	--accent: #1f6feb; --accent-fg: #fff; --danger: #c62828; --ok: #1a7f37; --warn-bg: #fff8e1;
	--code-bg: #f0f2f5; --focus: #ffb000;
}
@media (prefers-color-scheme: dark) {
	:root {
		--bg: #14171c; --fg: #e6e9ef; --muted: #9aa3b2; --card: #1c2027; --line: #2e343e;
		--accent: #4c8dff; --danger: #ff6b6b; --ok: #4ac26b; --warn-bg: #3a3222; --code-bg: #242a33;
	}
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg); font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
a { color: var(--accent); }
:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
.bar { display: flex; align-items: center; gap: 1.5em; padding: .7em 1.5em; background: var(--card); border-bottom: 1px solid var(--line); }
.brand { display: flex; align-items: center; gap: .5em; font-weight: 700; font-size: 1.1em; color: var(--fg); text-decoration: none; letter-spacing: .02em; }
.bar nav { display: flex; gap: 1.2em; flex: 1; }
.bar nav a { text-decoration: none; }
.bar nav a[aria-current="page"] { font-weight: 600; color: var(--fg); }
.who { display: flex; align-items: center; gap: .8em; color: var(--muted); font-size: .93em; }
.who form { margin: 0; }
main { max-width: 72rem; margin: 0 auto; padding: 1.5em; }
h1 { font-size: 1.6em; margin: .3em 0 .2em; }
h2 { font-size: 1.15em; margin: 0 0 .8em; }
h2 + .hint { margin: -.6em 0 .6em; }
.lead { color: var(--muted); margin-top: 0; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 1.2em 1.4em; margin: 1.2em 0; }
.narrow { max-width: 30rem; }
.form-grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(12rem, 1fr)); gap: .9em 1.2em; align-items: end; }
.field { display: flex; flex-direction: column; gap: .3em; }
.field label, .label { font-weight: 600; font-size: .9em; }
.hint { color: var(--muted); font-size: .85em; }
input, select, textarea { font: inherit; color: inherit; background: var(--bg); border: 1px solid var(--line); border-radius: 6px; padding: .45em .6em; width: 100%; }
textarea { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .85em; resize: vertical; word-break: break-all; }
code { white-space: nowrap; }
code, .code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: var(--code-bg); padding: .1em .35em; border-radius: 4px; }
button { font: inherit; cursor: pointer; border-radius: 6px; padding: .45em 1em; border: 1px solid var(--line); background: var(--card); color: var(--fg); }
button:hover { border-color: var(--muted); }
button.primary { background: var(--accent); border-color: var(--accent); color: var(--accent-fg); font-weight: 600; }
button.danger { color: var(--danger); border-color: currentColor; background: transparent; padding: .25em .7em; font-size: .9em; }
button.link { border: 0; background: none; padding: 0; color: var(--accent); text-decoration: underline; }
.actions { display: flex; gap: .8em; margin-top: 1em; }
.actions form { margin: 0; }
.error { border-left: 4px solid var(--danger); padding: .6em 1em; background: var(--card); border-radius: 4px; }
.notice { border-left: 4px solid var(--ok); padding: .6em 1em; background: var(--card); border-radius: 4px; }
.created { border: 2px solid var(--ok); }
.warn { background: var(--warn-bg); padding: .5em .8em; border-radius: 6px; }
.copy-row { display: flex; gap: .5em; align-items: flex-start; }
.created .field + .field { margin-top: 1em; }
.copy-row textarea { flex: 1; }
.table-wrap { overflow-x: auto; }
table { width: 100%; border-collapse: collapse; font-size: .93em; }
th, td { text-align: left; padding: .55em .6em; border-bottom: 1px solid var(--line); vertical-align: middle; }
th { font-size: .85em; color: var(--muted); font-weight: 600; text-transform: uppercase; letter-spacing: .04em; }
tbody tr:hover { background: var(--bg); }
td form { margin: 0; }
td time { white-space: nowrap; }
td .hint { display: block; }
.badge { display: inline-block; font-size: .8em; font-weight: 600; padding: .1em .55em; border-radius: 999px; border: 1px solid currentColor; }
.badge.active { color: var(--ok); }
.badge.revoked, .badge.expired { color: var(--muted); }
tr.revoked td, tr.expired td { color: var(--muted); }
.role { font-family: ui-monospace, monospace; font-size: .9em; }
.user-code { font: 700 2em/1.2 ui-monospace, monospace; letter-spacing: .15em; }
dl.facts dd.user-code { font-size: 1.5em; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .4em 1.2em; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; font-weight: 600; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
`;
