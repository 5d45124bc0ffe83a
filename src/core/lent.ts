/**
 * Chunks lent out with a way back. A reader that recycles its buffers (the erasure-coded reader
 * yields views of pooled stripe buffers) marks each chunk it yields with lend(); whoever finally
 * consumes the chunk calls consumed() once nothing will touch its bytes again: the HTTP response
 * once the socket has taken them, a writer once it has copied them. A chunk that is never
 * consumed is never reused: it is garbage collected like any other buffer. So forgetting
 * consumed() costs speed, never correctness, while calling it too early would hand the bytes to
 * another request: call it only from a write callback or right after the copy.
 */
const lenders = new WeakMap<object, () => void>();

/** Marks `chunk` as lent: `giveBack` runs when it is consumed. */
export function lend(chunk: Uint8Array, giveBack: () => void): void {
  lenders.set(chunk, giveBack);
}

/** Tells the lender (if any) that nothing uses `chunk` any more. */
export function consumed(chunk: Uint8Array): void {
  const giveBack = lenders.get(chunk);
  if (giveBack === undefined) return;
  lenders.delete(chunk);
  giveBack();
}
