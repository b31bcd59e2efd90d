/**
 * Attaching logger sources to the hierarchy.
 *
 * @module
 */

import { type Attachment, manager } from "./manager.ts";

let currentOwner: object | undefined;

/**
 * Attaches a logger source. The newest pipeline takes over in-process logging: the first
 * attachment of a new `owner` (a pipeline) detaches every attachment of the previous one in
 * the same synchronous step, so no record is lost or delivered twice during `configure()`.
 * Returns the function that detaches it.
 *
 * @example Attach and detach
 * ```ts
 * import { attachLogger } from "./attach.ts";
 * const owner = {};
 * const detach = attachLogger({ name: "", push: () => {}, minLevel: 0 }, owner);
 * detach();
 * ```
 */
export function attachLogger(attachment: Attachment, owner: object): () => void {
  const kept = currentOwner === owner ? manager.attachments : [];
  currentOwner = owner;
  manager.attachments = [...kept, attachment];
  manager.onFirstUse = undefined;
  manager.refresh();
  return () => {
    if (!manager.attachments.includes(attachment)) return;
    manager.attachments = manager.attachments.filter((a) => a !== attachment);
    manager.refresh();
  };
}

/**
 * Detaches every attachment of `owner` (the default output, once a configured pipeline
 * without a logger source replaces it).
 *
 * @example Detach an owner's attachments
 * ```ts
 * import { attachLogger, detachOwner } from "./attach.ts";
 * const owner = {};
 * attachLogger({ name: "", push: () => {}, minLevel: 0 }, owner);
 * detachOwner(owner);
 * ```
 */
export function detachOwner(owner: object): void {
  if (currentOwner !== owner) return;
  currentOwner = undefined;
  manager.attachments = [];
  manager.refresh();
}
