/**
 * The table's columns: the Ports view's four, then Berth's own. Under 1150 px Connections joins
 * Traffic and Origin goes (it stays in the row's tooltip and screen-reader label); under 700 px
 * State goes too (the status icon at the start of the Port cell still says it). ports.css holds
 * the widths and breakpoints.
 */

/** One column: its class (`c-<id>` on its header and cells), header and header tooltip. */
export interface Column {
	readonly id: 'port' | 'address' | 'process' | 'origin' | 'conn' | 'traffic' | 'state';
	readonly name: string;
	readonly title: string;
}

export const COLUMNS: readonly Column[] = [
	{ id: 'port', name: 'Port', title: 'The forwarded port, with its label' },
	{
		id: 'address',
		name: 'Forwarded Address',
		title: 'Where the port is reachable: click the address to open it from this window',
	},
	{
		id: 'process',
		name: 'Running Process',
		title:
			"The process listening on the port on the agent's side, where a proxy's traffic leaves, or what is wrong with the forward",
	},
	{
		id: 'origin',
		name: 'Origin',
		title: 'Who forwarded the port: you, auto-forwarding, or not forwarded yet',
	},
	{ id: 'conn', name: 'Connections', title: 'Connections open now, and accepted since the forward started' },
	{
		id: 'traffic',
		name: 'Traffic',
		title:
			'↓ bytes from the port to its clients and ↑ bytes from the clients to the port, since the forward started; ' +
			'then the rate both ways over the last few seconds, while data moves',
	},
	{ id: 'state', name: 'State', title: 'Whether the port is forwarded, or why it does not work' },
];
