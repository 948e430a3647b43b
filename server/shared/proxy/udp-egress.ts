import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { errorMessage } from '../../../protocol/errors';
import type { IDisposable } from '../../../protocol/lifecycle';
import { ResetCode, type StreamReset } from '../../../protocol/mux-frames';
import type { MuxStream, StreamHandler } from '../../../protocol/mux-stream';
import { encodeUdpDatagram, parseUdpDatagram, type SocksAddress } from '../../../protocol/socks5';
import type { Logger } from '../log';
import type { TargetPolicy } from '../target-policy';

/** Name lookups one association may have under way; datagrams past it are dropped, as UDP may. */
const MAX_PENDING_LOOKUPS = 64;

/**
 * Where a SOCKS5 UDP association's datagrams leave: the far end of a `udp` stream (the agent in
 * forward mode). Each Datagram frame names its destination (SOCKS5's UDP header); names are
 * resolved here (socks5h), every destination passes the target policy, and replies come back
 * with their source in the same header. UDP's promise only: a datagram that cannot go is dropped
 * (and logged at debug), never queued. The UDP sockets close with the stream.
 */
export class UdpEgress implements StreamHandler, IDisposable {
	private v4: UdpSocket | undefined;
	private v6: UdpSocket | undefined;
	private lookups = 0;
	private closed = false;

	constructor(
		private readonly stream: MuxStream,
		private readonly policy: TargetPolicy,
		private readonly log: Logger,
	) {
		stream.attach(this);
		stream.accept();
	}

	onDatagram(datagram: Uint8Array): void {
		const parsed = parseUdpDatagram(datagram);
		if (parsed.type !== 'done') {
			this.log.debug('dropped a datagram', { why: parsed.type === 'error' ? parsed.reason : 'truncated' });
			return;
		}
		const { address, data } = parsed.value;
		if (isIP(address.host) !== 0) {
			this.send(address.host, address, data);
		} else if (this.lookups < MAX_PENDING_LOOKUPS) {
			this.lookups++;
			lookup(address.host).then(
				(found) => {
					this.lookups--;
					this.send(found.address, address, data);
				},
				(error: unknown) => {
					this.lookups--;
					this.log.debug('dropped a datagram', { why: errorMessage(error), host: address.host });
				},
			);
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
		// Datagrams are never queued: nothing waits for credit.
	}

	dispose(): void {
		if (this.closed) {
			return;
		}
		this.closed = true;
		this.v4?.close();
		this.v6?.close();
		if (!this.stream.closed) {
			this.stream.reset(ResetCode.Closed, 'the UDP association ended');
		}
	}

	/** Sends `data` to `ip` (the destination `asked` for, resolved), if the policy allows it. */
	private send(ip: string, asked: SocksAddress, data: Uint8Array): void {
		if (this.closed) {
			return;
		}
		const refusal = this.policy.refusal(asked.host, ip, asked.port);
		if (refusal) {
			this.log.debug('dropped a datagram', { why: refusal });
			return;
		}
		const socket = isIP(ip) === 6 ? (this.v6 ??= this.open('udp6')) : (this.v4 ??= this.open('udp4'));
		socket.send(data, asked.port, ip);
	}

	private open(type: 'udp4' | 'udp6'): UdpSocket {
		const socket = createSocket({ type, ipv6Only: type === 'udp6' });
		socket.on('message', (data, from) => {
			const reply = encodeUdpDatagram({ host: from.address, port: from.port, isDomain: false }, data);
			this.stream.sendDatagram(reply);
		});
		socket.on('error', (error) => this.log.debug('UDP socket error', { error: error.message }));
		return socket;
	}
}
