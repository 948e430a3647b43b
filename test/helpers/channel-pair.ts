import { Emitter } from '../../protocol/lifecycle';
import type { MessageChannel } from '../../protocol/mux';

/**
 * Two Muxes joined by a channel pair whose "socket" can be congested on demand: while `congested`
 * is set, sent messages are held (as bytes waiting in a socket buffer) and counted in
 * bufferedBytes; `drain()` delivers them and fires onDidDrain. While `holdAcks` is set, the bytes
 * sent count as unacknowledged until `acknowledge()`; while `detached`, nothing leaves.
 */
/** One end of the test channel pair. */
export interface ChannelEnd {
	peer: ChannelEnd;
	congested: boolean;
	holdAcks: boolean;
	detached: boolean;
	unacked: number;
	/** The most that was ever unacknowledged at once. */
	peakUnacked: number;
	readonly held: Buffer[];
	readonly sent: Buffer[];
	readonly onMessage: Emitter<readonly Uint8Array[]>;
	readonly channel: MessageChannel;
	drain(): void;
	acknowledge(): void;
}

export function channelPair(): readonly [ChannelEnd, ChannelEnd] {
	const make = (): ChannelEnd => {
		const onMessage = new Emitter<readonly Uint8Array[]>();
		const onDrain = new Emitter<void>();
		const onAcknowledge = new Emitter<void>();
		const held: Buffer[] = [];
		const end: ChannelEnd = {
			peer: undefined as unknown as ChannelEnd,
			congested: false,
			holdAcks: false,
			detached: false,
			unacked: 0,
			peakUnacked: 0,
			held,
			sent: [],
			onMessage,
			channel: {
				send(chunks: Uint8Array | readonly Uint8Array[], prefix?: Uint8Array) {
					const parts = chunks instanceof Uint8Array ? [chunks] : chunks;
					const message = Buffer.concat([...(prefix ? [prefix] : []), ...parts].map((c) => Buffer.from(c)));
					end.sent.push(message);
					if (end.holdAcks) {
						end.unacked += message.byteLength;
						end.peakUnacked = Math.max(end.peakUnacked, end.unacked);
					}
					// Behind what is still held (a send made while drain() delivers): a socket keeps order.
					if (end.congested || end.detached || held.length > 0) {
						held.push(message);
					} else {
						end.peer.onMessage.fire(split(message));
					}
					return !end.congested;
				},
				get bufferedBytes() {
					return end.detached ? 0 : held.reduce((n, m) => n + m.byteLength, 0);
				},
				get unackedBytes() {
					return end.unacked;
				},
				get isAttached() {
					return !end.detached;
				},
				onDidReceiveMessage: onMessage.event,
				onDidDrain: onDrain.event,
				onDidAcknowledge: onAcknowledge.event,
			},
			drain() {
				end.congested = false;
				end.detached = false;
				// One at a time, so what is sent while they are delivered queues behind them.
				while (held.length > 0) {
					end.peer.onMessage.fire(split(held[0]!));
					held.shift();
				}
				onDrain.fire();
			},
			acknowledge() {
				end.unacked = 0;
				onAcknowledge.fire();
			},
		};
		return end;
	};
	const a = make();
	const b = make();
	a.peer = b;
	b.peer = a;
	return [a, b];
}

/**
 * Delivers a message as several segments, the way a socket's reads cut it (here: the header
 * alone is cut in two, and the body in three), so the receiving side's joins are exercised.
 */
function split(message: Buffer): Uint8Array[] {
	const cuts = [3, 7, Math.floor(message.length / 2)].filter((c) => c < message.length);
	const segments: Uint8Array[] = [];
	let at = 0;
	for (const cut of [...new Set(cuts)].sort((a, b) => a - b)) {
		if (cut > at) {
			segments.push(message.subarray(at, cut));
			at = cut;
		}
	}
	segments.push(message.subarray(at));
	return segments;
}
