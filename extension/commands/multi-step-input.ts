import * as vscode from 'vscode';

/**
 * A flow of input steps with a Back button, after VS Code's multi-step input sample
 * (vscode-extension-samples/quickinput-sample/src/multiStepInput.ts): each step is a function
 * that shows one input and returns the next step. Back goes to the previous step with what was
 * typed there; Escape ends the flow. Steps show "(2/3)" through `step`/`totalSteps`.
 */

/** What a step returns: the next step, or nothing when the flow is done. */
export type InputStep = (input: MultiStepInput) => Promise<InputStep | void>;

/** Thrown inside a step when the user pressed Back or Escape. */
class FlowControl {
	private constructor(readonly kind: 'back' | 'cancel') {}
	static readonly back = new FlowControl('back');
	static readonly cancel = new FlowControl('cancel');
}

/** Where a step is, for the title: "Connect to Agent (2/3)". */
export interface StepPosition {
	readonly title: string;
	readonly step: number;
	readonly totalSteps: number;
}

/** An input box step. */
export interface InputBoxStep extends StepPosition {
	readonly value: string;
	readonly prompt: string;
	readonly placeholder?: string;
	readonly password?: boolean;
	/** Live validation: a message while the value cannot be accepted. */
	readonly validate: (value: string) => string | undefined;
	/**
	 * Runs on Enter with the input busy (a reachability check, say): a message keeps the step
	 * open and shows it; undefined moves on.
	 */
	readonly check?: (value: string) => Promise<string | undefined>;
}

/** A quick pick step. */
export interface QuickPickStep<T extends vscode.QuickPickItem> extends StepPosition {
	readonly items: readonly T[];
	readonly placeholder: string;
	readonly active?: T;
}

/** What every step's input has: a QuickPick or an InputBox. */
type StepInput = vscode.QuickInput & {
	buttons: readonly vscode.QuickInputButton[];
	readonly onDidTriggerButton: vscode.Event<vscode.QuickInputButton>;
};

/** Runs steps; see the file comment. */
export class MultiStepInput {
	private readonly steps: InputStep[] = [];
	private current: vscode.QuickInput | undefined;

	/** Runs the flow from `start`; resolves when it is done or cancelled. */
	static async run(start: InputStep): Promise<void> {
		await new MultiStepInput().stepThrough(start);
	}

	private async stepThrough(start: InputStep): Promise<void> {
		let step: InputStep | void = start;
		while (step) {
			this.steps.push(step);
			try {
				step = await step(this);
			} catch (error) {
				if (error === FlowControl.back) {
					this.steps.pop();
					step = this.steps.pop();
				} else if (error === FlowControl.cancel) {
					step = undefined;
				} else {
					throw error;
				}
			}
		}
		this.current?.dispose();
	}

	/** Shows an input box; resolves with the accepted value. */
	showInputBox(options: InputBoxStep): Promise<string> {
		const input = vscode.window.createInputBox();
		this.show(input, options);
		input.value = options.value;
		input.prompt = options.prompt;
		input.placeholder = options.placeholder;
		input.password = options.password ?? false;
		return this.wait<string>(input, (resolve, disposables) => {
			disposables.push(
				input.onDidChangeValue((value) => (input.validationMessage = options.validate(value))),
				input.onDidAccept(async () => {
					const value = input.value;
					const invalid = options.validate(value) ?? (await this.runCheck(input, options, value));
					input.validationMessage = invalid;
					if (invalid === undefined) {
						resolve(value);
					}
				}),
			);
		});
	}

	/** Shows a quick pick; resolves with the picked item. */
	showQuickPick<T extends vscode.QuickPickItem>(options: QuickPickStep<T>): Promise<T> {
		const input = vscode.window.createQuickPick<T>();
		this.show(input, options);
		input.placeholder = options.placeholder;
		input.items = options.items;
		if (options.active) {
			input.activeItems = [options.active];
		}
		return this.wait<T>(input, (resolve, disposables) => {
			disposables.push(
				input.onDidChangeSelection((items) => {
					if (items[0]) {
						resolve(items[0]);
					}
				}),
			);
		});
	}

	private async runCheck(
		input: vscode.InputBox,
		options: InputBoxStep,
		value: string,
	): Promise<string | undefined> {
		if (!options.check) {
			return undefined;
		}
		input.busy = true;
		input.enabled = false;
		try {
			return await options.check(value);
		} finally {
			input.busy = false;
			input.enabled = true;
		}
	}

	private show(input: StepInput, position: StepPosition): void {
		input.title = position.title;
		input.step = position.step;
		input.totalSteps = position.totalSteps;
		input.ignoreFocusOut = true;
		input.buttons = this.steps.length > 1 ? [vscode.QuickInputButtons.Back] : [];
	}

	/** Shows `input` in place of the previous step's and settles on accept, Back or hide. */
	private wait<T>(
		input: StepInput,
		listen: (resolve: (value: T) => void, disposables: vscode.Disposable[]) => void,
	): Promise<T> {
		const disposables: vscode.Disposable[] = [];
		return new Promise<T>((resolve, reject) => {
			listen(resolve, disposables);
			disposables.push(
				input.onDidTriggerButton((button) => {
					if (button === vscode.QuickInputButtons.Back) {
						reject(FlowControl.back);
					}
				}),
				input.onDidHide(() => reject(FlowControl.cancel)),
			);
			this.current?.dispose();
			this.current = input;
			input.show();
		}).finally(() => {
			for (const d of disposables) {
				d.dispose();
			}
		});
	}
}
