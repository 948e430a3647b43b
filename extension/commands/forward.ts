import * as vscode from 'vscode';
import { parseRowContext } from '../../protocol/webview';
import { describeForwardError } from '../error-text';
import { showError } from '../notify';
import {
	connectHostFor,
	formatHostPort,
	parseForwardInput,
	parsePortInput,
	parseTargetInput,
	type ForwardInput,
} from '../ports/forward-input';
import { rowKeyOf } from '../ports/ports-model';
import type { Services } from '../services';
import { MultiStepInput } from './multi-step-input';
import { agentName, pickConnectedAgent, pickForward } from './pick';

/** What the Ports view says, word for word, for a port forwarded already. */
export const ALREADY_FORWARDED = 'Port is already forwarded';

/** Shows the Remote Port Forwarding panel (the view's generated focus command). */
export async function showPanel(preserveFocus = false): Promise<void> {
	await vscode.commands.executeCommand('berth.portsView.focus', { preserveFocus });
}

/**
 * Forward a Port...: a detected row's port at once; else `3000`, `db:5432`, `8080:3000` or
 * `8080:db:5432` through the agent picked. A port forwarded already says so in the input box,
 * and Enter then shows its row.
 */
export async function forwardPort(services: Services, arg?: unknown): Promise<void> {
	const row = parseRowContext(arg);
	if (row?.webviewSection === 'detected' && row.berthHost !== undefined && row.berthPort !== undefined) {
		await forwardTarget(services, row.berthAgentId, {
			host: connectHostFor(row.berthHost),
			port: row.berthPort,
		});
		return;
	}
	const agentId = await pickConnectedAgent(services, arg, 'Forward a port of which agent?');
	if (!agentId) {
		return;
	}
	const input = vscode.window.createInputBox();
	input.title = agentId === 'local' ? 'Forward a Port' : `Forward a Port of ${agentName(agentId)}`;
	input.prompt = 'A port, or host:port as the agent sees it; put a local port first to choose it (8080:3000)';
	input.placeholder = '3000, db:5432 or 8080:3000';
	input.ignoreFocusOut = true;
	const validate = (value: string): void => {
		const parsed = parseForwardInput(value);
		const duplicate = typeof parsed !== 'string' && services.forwarding.findForwardTo(agentId, parsed);
		input.validationMessage = typeof parsed === 'string' ? parsed : duplicate ? ALREADY_FORWARDED : undefined;
	};
	const target = await new Promise<ForwardInput | undefined>((resolve) => {
		input.onDidChangeValue((value) =>
			value.trim() === '' ? (input.validationMessage = undefined) : validate(value),
		);
		input.onDidAccept(() => {
			const parsed = parseForwardInput(input.value);
			if (typeof parsed === 'string') {
				input.validationMessage = parsed;
				return;
			}
			const existing = services.forwarding.findForwardTo(agentId, parsed);
			if (existing) {
				// Enter on "Port is already forwarded" goes to that port's row, as the Ports view does.
				services.panel.reveal(rowKeyOf(agentId, 'local', existing.id));
			}
			resolve(existing ? undefined : parsed);
			input.hide();
		});
		input.onDidHide(() => resolve(undefined));
		input.show();
	}).finally(() => input.dispose());
	if (target) {
		await forwardTarget(services, agentId, target);
	}
}

/**
 * Forwards and shows the panel; a port forwarded already shows its row instead. Failures say why
 * in words and offer Retry when it can help.
 */
export async function forwardTarget(
	services: Services,
	agentId: string,
	target: ForwardInput,
): Promise<void> {
	const existing = services.forwarding.findForwardTo(agentId, target);
	if (existing) {
		services.panel.reveal(rowKeyOf(agentId, 'local', existing.id));
		return;
	}
	try {
		await services.forwarding.forward(agentId, target, {
			origin: 'user',
			...(target.localPort !== undefined ? { localPort: target.localPort, exactLocalPort: true } : {}),
		});
		await showPanel(true);
	} catch (error) {
		const text = describeForwardError(error, {
			bindHost: services.config.settings.localAddress,
			bindPort: target.localPort ?? 0,
			target: formatHostPort(target.host, target.port),
		});
		void showError(text.message, () => forwardTarget(services, agentId, target), text.action);
	}
}

/**
 * Forward a Port to the Agent... (ssh -R): the agent listens on a port of its host and sends each
 * connection to a port of this machine. Two steps, with Back.
 */
export async function forwardRemotePort(services: Services, arg?: unknown): Promise<void> {
	const agentId = await pickConnectedAgent(
		services,
		arg,
		'Which agent should listen?',
		(peer) => peer === 'berth',
	);
	if (!agentId) {
		return;
	}
	const title = `Forward a Port to ${agentName(agentId)}`;
	let bind: { host: string; port: number } | undefined;
	let target: { host: string; port: number } | undefined;
	await MultiStepInput.run(async (input) => {
		const text = await input.showInputBox({
			title,
			step: 1,
			totalSteps: 2,
			value: bind ? String(bind.port) : '',
			prompt: 'The port the agent listens on, on its loopback (or bind address:port, if the agent allows it)',
			placeholder: '9000 or 127.0.0.1:9000',
			validate: (value) => errorOf(parseTargetInput(value)),
		});
		bind = parseTargetInput(text) as { host: string; port: number };
		return async (next) => {
			const local = await next.showInputBox({
				title,
				step: 2,
				totalSteps: 2,
				value: '',
				prompt: `Where connections to the agent's port ${bind!.port} go, on this machine`,
				placeholder: '3000 or host:3000',
				validate: (value) => errorOf(parseTargetInput(value)),
			});
			target = parseTargetInput(local) as { host: string; port: number };
		};
	});
	if (!bind || !target) {
		return;
	}
	try {
		await services.forwarding.forwardRemote(agentId, {
			...(bind.host !== 'localhost' ? { bindHost: bind.host } : {}),
			bindPort: bind.port,
			...target,
		});
		await showPanel(true);
	} catch (error) {
		const text = describeForwardError(error, {
			bindHost: bind.host,
			bindPort: bind.port,
			target: formatHostPort(target.host, target.port),
		});
		void showError(text.message, () => forwardRemotePort(services, agentId), text.action);
	}
}

function errorOf(parsed: unknown): string | undefined {
	return typeof parsed === 'string' ? parsed : undefined;
}

/** Change Local Address Port...: moves a local forward to the port typed (exactly that one). */
export async function changeLocalPort(services: Services, arg: unknown): Promise<void> {
	const picked = await pickForward(services, arg, 'Change the local port of which forward?', 'local');
	if (!picked) {
		return;
	}
	const { agentId, info } = picked;
	const text = await vscode.window.showInputBox({
		title: `Change Local Address Port: ${formatHostPort(info.targetHost, info.targetPort)}`,
		prompt: `The local port to listen on instead of ${info.bindPort}`,
		value: String(info.bindPort),
		ignoreFocusOut: true,
		validateInput: (value) => {
			const port = parsePortInput(value);
			return typeof port === 'string' ? port : undefined;
		},
	});
	const port = text === undefined ? undefined : parsePortInput(text);
	if (typeof port !== 'number' || port === info.bindPort) {
		return;
	}
	try {
		await services.forwarding.changeLocalPort(agentId, info.id, port);
	} catch (error) {
		const target = formatHostPort(info.targetHost, info.targetPort);
		void showError(describeForwardError(error, { bindHost: info.bindHost, bindPort: port, target }).message);
	}
}

/** Registers Forward a Port..., Forward a Port to the Agent..., Stop Forwarding Port and Change Local Address Port.... */
export function registerForwardCommands(services: Services): vscode.Disposable[] {
	return [
		vscode.commands.registerCommand('berth.forwardPort', (arg: unknown) => forwardPort(services, arg)),
		vscode.commands.registerCommand('berth.forwardRemotePort', (arg: unknown) =>
			forwardRemotePort(services, arg),
		),
		vscode.commands.registerCommand('berth.changeLocalPort', (arg: unknown) =>
			changeLocalPort(services, arg),
		),
		vscode.commands.registerCommand('berth.stopForwarding', async (arg: unknown) => {
			const picked = await pickForward(services, arg, 'Stop forwarding which port?');
			if (picked) {
				await services.forwarding.stop(picked.agentId, picked.info.id);
			}
		}),
	];
}
