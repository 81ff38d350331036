// Test helper for the router tests.
import { TRPCError } from "@trpc/server";
import assert from "node:assert/strict";

/** Asserts that a procedure call fails with this tRPC error code, and then a message pattern or a check. */
export async function rejectsWith(
  promise: Promise<unknown>,
  code: TRPCError["code"],
  expected?: RegExp | ((error: TRPCError) => void),
): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof TRPCError, `expected a TRPCError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    if (expected instanceof RegExp) assert.match(error.message, expected);
    else expected?.(error);
    return true;
  });
}
