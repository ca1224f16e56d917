// The JS functions a bridge has passed to Python (docs/concurrency.md#callbacks),
// by id. Python holds each as one callable while it lives; when Python
// drops it, it says how many times it received it, and the function is
// forgotten only when that matches the times it was sent (a send still on
// its way keeps it).
import { BridgeError } from "./errors.js";
import { Decoder, Encoder, type WrapRef } from "./codec.js";

interface Entry {
  fn: Function;
  sent: number;
}

/** What the encoder asks of a bridge's callbacks. */
export interface CallbackIds {
  /** The id of `fn`, counted as sent once more. */
  idOf(fn: Function): number;
  /** Undoes one idOf() whose message was not sent. */
  unsend(id: number): void;
  /** The function Python sent back by id. */
  fn(id: number): Function | undefined;
}

export class Callbacks implements CallbackIds {
  private readonly ids = new Map<Function, number>();
  private readonly entries = new Map<number, Entry>();
  private next = 1;

  idOf(fn: Function): number {
    let id = this.ids.get(fn);
    if (id === undefined) {
      id = this.next++;
      this.ids.set(fn, id);
      this.entries.set(id, { fn, sent: 0 });
    }
    this.entries.get(id)!.sent++;
    return id;
  }

  unsend(id: number): void {
    this.release(id, 1);
  }

  fn(id: number): Function | undefined {
    return this.entries.get(id)?.fn;
  }

  /** Python dropped `id` after receiving it `count` times. */
  release(id: number, count: number): void {
    const entry = this.entries.get(id);
    if (entry === undefined) return;
    entry.sent -= count;
    if (entry.sent > 0) return;
    this.entries.delete(id);
    this.ids.delete(entry.fn);
  }

  /** How many functions Python may still call. */
  get size(): number {
    return this.entries.size;
  }

  clear(): void {
    this.entries.clear();
    this.ids.clear();
  }

  /**
   * Runs callback `id` with the arguments Python sent (`[args, kwargs]`
   * decoded from `bytes`) and encodes its outcome for the reply: the
   * value (awaited when it is a promise) as [value], or the error as
   * [name, message, stack]: at once when the function returns a value, as
   * a promise when it returns one. Never throws.
   */
  run(id: number, args: unknown[], kwargs: Record<string, unknown> | null): CallbackOutcome | Promise<CallbackOutcome> {
    const entry = this.entries.get(id);
    try {
      if (entry === undefined) throw new BridgeError("ESEM_RELEASED", `JS function #${id} was released`);
      let value: unknown;
      if (kwargs === null || isEmpty(kwargs)) {
        value = entry.fn(...args);
      } else {
        value = entry.fn(...args, kwargs);
      }
      return outcomeOf(value);
    } catch (error) {
      return thrownOutcome(error);
    }
  }
}

/** A JS function's return value as an outcome: a promise's, once it settles. */
export function outcomeOf(value: unknown): CallbackOutcome | Promise<CallbackOutcome> {
  if (value !== null && typeof value === "object" && typeof (value as PromiseLike<unknown>).then === "function") {
    return Promise.resolve(value).then(
      (v) => ({ ok: true, value: v }),
      (error) => thrownOutcome(error),
    );
  }
  return { ok: true, value };
}

export function thrownOutcome(error: unknown): CallbackOutcome {
  return { ok: false, value: errorParts(error) };
}

function isEmpty(o: object): boolean {
  for (const _ in o) return false;
  return true;
}

export interface CallbackOutcome {
  ok: boolean;
  /** The result, or [name, message, stack] of the error. */
  value: unknown;
}

/** [name, message, stack] of anything thrown. */
export function errorParts(error: unknown): [string, string, string] {
  if (error instanceof Error) return [error.name, error.message, error.stack ?? ""];
  let text: string;
  try {
    text = String(error);
  } catch {
    text = "a value that cannot be shown";
  }
  return ["Error", `a JS callback threw a non-Error value: ${text}`, ""];
}

/** Decodes a callback request's `[args, kwargs]`. */
export function decodeCallArgs(decoder: Decoder): [unknown[], Record<string, unknown> | null] {
  const args = decoder.value() as unknown[];
  const kwargs = decoder.value() as Record<string, unknown> | null;
  return [args, kwargs];
}

/**
 * Encodes a callback's outcome: [value] or [name, message, stack]. A value
 * that cannot be sent becomes an error outcome (a BridgeError naming it).
 */
export function encodeOutcome(encoder: Encoder, outcome: CallbackOutcome): { ok: boolean; bytes: Uint8Array } {
  if (outcome.ok) {
    try {
      return { ok: true, bytes: encoder.encode([outcome.value], ["result"]) };
    } catch (error) {
      outcome = { ok: false, value: errorParts(error) };
    }
  }
  return { ok: false, bytes: encoder.encode(outcome.value as unknown[], ["name", "message", "stack"]) };
}

export type { WrapRef };
