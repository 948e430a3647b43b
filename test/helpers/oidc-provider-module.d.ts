/**
 * The few parts of the `oidc-provider` package (it ships no types) that test/helpers/oidc-provider.ts
 * uses, as its README documents them. Only tests import it.
 */
declare module 'oidc-provider' {
	import type { IncomingMessage, ServerResponse } from 'node:http';

	export interface KoaContext {
		readonly path: string;
		body: unknown;
	}

	export interface Account {
		readonly accountId: string;
		claims(): Promise<Record<string, unknown>> | Record<string, unknown>;
	}

	export interface InteractionDetails {
		readonly uid: string;
		readonly prompt: { readonly name: string };
		readonly params: Readonly<Record<string, unknown>>;
	}

	export interface Grant {
		addOIDCScope(scope: string): void;
		addOIDCClaims(claims: readonly string[]): void;
		save(): Promise<string>;
	}

	export interface ClientPrototype {
		redirectUriAllowed(this: { clientId: string }, value: string): boolean;
	}

	export class Provider {
		constructor(issuer: string, configuration: Record<string, unknown>);
		readonly Grant: new (properties: { accountId: string; clientId: string }) => Grant;
		readonly Client: { prototype: ClientPrototype };
		callback(): (req: IncomingMessage, res: ServerResponse) => void;
		use(middleware: (ctx: KoaContext, next: () => Promise<void>) => Promise<void>): this;
		interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<InteractionDetails>;
		interactionFinished(
			req: IncomingMessage,
			res: ServerResponse,
			result: Record<string, unknown>,
			options?: { mergeWithLastSubmission?: boolean },
		): Promise<void>;
	}
	export default Provider;
}
