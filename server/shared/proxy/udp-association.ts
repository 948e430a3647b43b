import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { isIP, type Socket } from 'node:net';
import type { IDisposable } from '../../../protocol/lifecycle';
import { ResetCode, type StreamReset } from '../../../protocol/mux-frames';
import type { MuxStream, StreamHandler } from '../../../protocol/mux-stream';
import { parseUdpDatagram, type SocksAddress } from '../../../protocol/socks5';
import type { Logger } from '../log';

/**
 * The proxy's side of a SOCKS5 UDP association: a UDP relay port for one client, joined to a
 * `udp` stream whose far end (UdpEgress) sends the datagrams on. Datagrams are taken only from
 * the address of the client's TCP control connection (its port is learnt from the first one), go
 * through the session whole as Datagram frames, and the replies come back to that client. The
 * association lives as long as the control connection: closing either ends both.
 */
export class UdpAssociation implements StreamHandler, IDisposable {
	private client: { address: string; port: number } | undefined;
	private closed = false;

	private constructor(
		private readonly relay: UdpSocket,
		private readonly stream: MuxStream,
		private readonly control: Socket,
		private readonly log: Logger,
	) {
		stream.attach(this);
		relay.on('message', (datagram, from) => this.fromClient(datagram, from));
		relay.on('error', (error) => this.log.debug('UDP relay error', { error: error.message }));
		control.once('close', () => this.dispose());
		control.on('data', () => undefined); // the control connection carries nothing more
		control.resume();
	}

	/** Binds the relay port next to the proxy's own address; resolves with the association and the port's address. */
	static async start(
		bind: string,
		stream: MuxStream,
		control: Socket,
		log: Logger,
	): Promise<{ association: UdpAssociation; address: SocksAddress }> {
		const relay = createSocket({ type: isIP(bind) === 6 ? 'udp6' : 'udp4' });
		await new Promise<void>((resolve, reject) => {
			relay.once('error', reject);
			relay.bind(0, bind, () => {
				relay.off('error', reject);
				resolve();
			});
		});
		const association = new UdpAssociation(relay, stream, control, log);
		const bound = relay.address();
		return { association, address: { host: bound.address, port: bound.port, isDomain: false } };
	}

	onDatagram(datagram: Uint8Array): void {
		if (this.client && !this.closed) {
			this.relay.send(datagram, this.client.port, this.client.address);
		}
	}

	onData(): void {
		// A `udp` stream carries datagrams only.
	}

	onEnd(): void {
		this.dispose();
	}

	onReset(_reset: StreamReset): void {
		this.dispose();
	}

	onDrain(): void {
		// Datagrams are never queued.
	}

	dispose(): void {
		if (this.closed) {
			return;
		}
		this.closed = true;
		this.relay.close();
		this.control.destroy();
		if (!this.stream.closed) {
			this.stream.reset(ResetCode.Closed, 'the UDP association ended');
		}
	}

	private fromClient(datagram: Buffer, from: { address: string; port: number }): void {
		if (from.address !== normalize(this.control.remoteAddress)) {
			return; // not the client that asked for this association
		}
		this.client ??= { address: from.address, port: from.port };
		if (from.port !== this.client.port) {
			return;
		}
		const parsed = parseUdpDatagram(datagram);
		if (parsed.type !== 'done') {
			this.log.debug('dropped a datagram from the client', {
				why: parsed.type === 'error' ? parsed.reason : '',
			});
			return;
		}
		this.stream.sendDatagram(datagram); // dropped when the session is congested: UDP's promise
	}
}

/** `::ffff:127.0.0.1` (a TCP peer on a dual-stack socket) as UDP reports it: `127.0.0.1`. */
function normalize(address: string | undefined): string {
	return address?.startsWith('::ffff:') ? address.slice('::ffff:'.length) : (address ?? '');
}
