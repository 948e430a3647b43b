import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
	encodeMethodChoice,
	encodeReply,
	encodeUdpDatagram,
	encodeUserPassReply,
	parseGreeting,
	parseIPv6,
	parseRequest,
	parseUdpDatagram,
	parseUserPass,
	SocksCommand,
	SocksMethod,
	SocksReply,
} from '../../../protocol/socks5';

const hex = (text: string): Uint8Array => Buffer.from(text.replace(/\s+/g, ''), 'hex');
const toHex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

describe('SOCKS5 greeting', () => {
	it('reads the methods a client offers', () => {
		assert.deepEqual(parseGreeting(hex('05 02 00 02')), {
			type: 'done',
			value: [SocksMethod.None, SocksMethod.UserPass],
			consumed: 4,
		});
	});
	it('waits for a truncated greeting', () => {
		assert.equal(parseGreeting(hex('05')).type, 'incomplete');
		assert.equal(parseGreeting(hex('05 03 00')).type, 'incomplete');
	});
	it('refuses another version and an empty method list', () => {
		assert.match((parseGreeting(hex('04 01 00')) as { reason: string }).reason, /not SOCKS5/);
		assert.match((parseGreeting(hex('05 00')) as { reason: string }).reason, /no method/);
	});
	it('answers with the chosen method', () => {
		assert.equal(toHex(encodeMethodChoice(SocksMethod.UserPass)), '0502');
		assert.equal(toHex(encodeMethodChoice(SocksMethod.NoAcceptable)), '05ff');
	});
});

describe('RFC 1929 username/password', () => {
	it('reads both, an empty password too', () => {
		assert.deepEqual(parseUserPass(hex('01 03 617070 00')), {
			type: 'done',
			value: { username: 'app', password: '' },
			consumed: 6,
		});
		assert.deepEqual(parseUserPass(hex('01 01 61 02 7a7a')), {
			type: 'done',
			value: { username: 'a', password: 'zz' },
			consumed: 6,
		});
	});
	it('waits for the rest, and refuses another version', () => {
		assert.equal(parseUserPass(hex('01 05 6162')).type, 'incomplete');
		assert.equal(parseUserPass(hex('01 01 61')).type, 'incomplete');
		assert.equal(parseUserPass(hex('02 00 00')).type, 'error');
	});
	it('answers 0 for accepted, 1 for refused', () => {
		assert.equal(toHex(encodeUserPassReply(true)), '0100');
		assert.equal(toHex(encodeUserPassReply(false)), '0101');
	});
});

describe('SOCKS5 request', () => {
	const rows: { name: string; bytes: string; value?: unknown; reply?: SocksReply; incomplete?: boolean }[] = [
		{
			name: 'CONNECT to IPv4',
			bytes: '05 01 00 01 7f000001 1f90',
			value: { command: SocksCommand.Connect, address: { host: '127.0.0.1', port: 8080, isDomain: false } },
		},
		{
			name: 'CONNECT to a domain name (socks5h)',
			bytes: '05 01 00 03 0b 6578616d706c652e636f6d 01bb',
			value: { command: SocksCommand.Connect, address: { host: 'example.com', port: 443, isDomain: true } },
		},
		{
			name: 'CONNECT to IPv6',
			bytes: '05 01 00 04 00000000000000000000000000000001 0016',
			value: { command: SocksCommand.Connect, address: { host: '::1', port: 22, isDomain: false } },
		},
		{
			name: 'UDP ASSOCIATE from 0.0.0.0:0 (the client does not know its address yet)',
			bytes: '05 03 00 01 00000000 0000',
			value: { command: SocksCommand.UdpAssociate, address: { host: '0.0.0.0', port: 0, isDomain: false } },
		},
		{ name: 'an unknown command', bytes: '05 09 00 01 7f000001 0050', reply: SocksReply.CommandNotSupported },
		{
			name: 'an unknown address type',
			bytes: '05 01 00 07 7f000001 0050',
			reply: SocksReply.AddressTypeNotSupported,
		},
		{ name: 'port 0', bytes: '05 01 00 01 7f000001 0000', reply: SocksReply.GeneralFailure },
		{ name: 'an empty domain name', bytes: '05 01 00 03 00 0050', reply: SocksReply.GeneralFailure },
		{
			name: 'a domain name with a space',
			bytes: '05 01 00 03 03 612062 0050',
			reply: SocksReply.GeneralFailure,
		},
		{ name: 'a truncated IPv4 request', bytes: '05 01 00 01 7f00', incomplete: true },
		{ name: 'a truncated 255-byte domain', bytes: '05 01 00 03 ff ' + '61'.repeat(200), incomplete: true },
	];
	for (const row of rows) {
		it(`reads ${row.name}`, () => {
			const parsed = parseRequest(hex(row.bytes));
			if (row.incomplete) {
				assert.equal(parsed.type, 'incomplete');
			} else if (row.reply !== undefined) {
				assert.equal(parsed.type, 'error');
				assert.equal((parsed as { reply?: SocksReply }).reply, row.reply);
			} else {
				assert.deepEqual(parsed, { type: 'done', value: row.value, consumed: hex(row.bytes).length });
			}
		});
	}
	it('reads a 255-byte domain name whole', () => {
		const name = 'a'.repeat(255);
		const parsed = parseRequest(hex('05 01 00 03 ff ' + Buffer.from(name).toString('hex') + ' 0050'));
		assert.equal(parsed.type === 'done' && parsed.value.address.host, name);
	});
	it('encodes replies with the bound address', () => {
		assert.equal(
			toHex(encodeReply(SocksReply.Succeeded, { host: '127.0.0.1', port: 1080, isDomain: false })),
			'050000017f0000010438',
		);
		assert.equal(toHex(encodeReply(SocksReply.ConnectionRefused)), '05050001000000000000');
		assert.equal(
			toHex(encodeReply(SocksReply.Succeeded, { host: '::1', port: 1, isDomain: false })),
			'05000004' + '00000000000000000000000000000001' + '0001',
		);
	});
});

describe('SOCKS5 UDP datagrams', () => {
	it('reads the header and gives the data as a view', () => {
		const datagram = hex('0000 00 01 7f000001 0035 deadbeef');
		const parsed = parseUdpDatagram(datagram);
		assert.equal(parsed.type, 'done');
		if (parsed.type === 'done') {
			assert.deepEqual(parsed.value.address, { host: '127.0.0.1', port: 53, isDomain: false });
			assert.equal(toHex(parsed.value.data), 'deadbeef');
		}
	});
	it('refuses fragments, non-zero reserved bytes and truncated headers', () => {
		assert.match(
			(parseUdpDatagram(hex('0000 01 01 7f000001 0035')) as { reason: string }).reason,
			/fragment/,
		);
		assert.match(
			(parseUdpDatagram(hex('0100 00 01 7f000001 0035')) as { reason: string }).reason,
			/reserved/,
		);
		assert.equal(parseUdpDatagram(hex('0000 00 01 7f00')).type, 'error');
		assert.match(
			(parseUdpDatagram(hex('0000 00 01 7f000001 0000 00')) as { reason: string }).reason,
			/port 0/,
		);
	});
	it('round-trips a datagram for a domain name', () => {
		const out = encodeUdpDatagram({ host: 'dns.example', port: 53, isDomain: true }, Buffer.from('q'));
		const back = parseUdpDatagram(out);
		assert.ok(back.type === 'done');
		assert.deepEqual(back.value.address, { host: 'dns.example', port: 53, isDomain: true });
		assert.equal(Buffer.from(back.value.data).toString(), 'q');
	});
});

describe('parseIPv6', () => {
	const rows: [string, string | undefined][] = [
		['::1', '00000000000000000000000000000001'],
		['::', '00000000000000000000000000000000'],
		['2001:db8::1', '20010db8000000000000000000000001'],
		['[fe80::1]', 'fe800000000000000000000000000001'],
		['::ffff:127.0.0.1', '00000000000000000000ffff7f000001'],
		['1:2:3:4:5:6:7:8', '00010002000300040005000600070008'],
		['1::2::3', undefined],
		['127.0.0.1', undefined],
		['1:2:3:4:5:6:7:8:9', undefined],
		['gggg::1', undefined],
	];
	for (const [text, bytes] of rows) {
		it(`reads ${text}`, () => {
			const parsed = parseIPv6(text);
			assert.equal(parsed ? Buffer.from(parsed).toString('hex') : undefined, bytes);
		});
	}
});
