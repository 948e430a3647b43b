// The globals that both Node and browsers provide, declared for protocol/'s own type check (which
// loads neither @types/node nor the DOM lib). Other folders get the real declarations instead.

declare class TextEncoder {
	encode(input?: string): Uint8Array;
}

declare class TextDecoder {
	constructor(label?: string, options?: { fatal?: boolean });
	decode(input?: Uint8Array): string;
}

/** WHATWG URL, the members protocol/ reads (init URLs). */
declare class URL {
	constructor(url: string, base?: string);
	readonly protocol: string;
	readonly username: string;
	readonly password: string;
	readonly host: string;
	readonly pathname: string;
	readonly search: string;
	readonly hash: string;
}
