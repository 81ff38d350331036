// One way to turn what the API answered into words for the user: the message, plus every graph problem or
// input issue the server listed (see server/api/trpc.ts's errorFormatter).
import type { GraphProblem } from "../../nodes/graph/validate";

interface ErrorData {
  code?: string;
  httpStatus?: number;
  problems?: GraphProblem[];
  issues?: { path: string; message: string }[];
}

export function errorData(error: unknown): ErrorData {
  const data = (error as { data?: ErrorData } | null)?.data;
  return data && typeof data === "object" ? data : {};
}

export function errorMessage(error: unknown): string {
  if (!error) return "";
  const data = errorData(error);
  if (data.issues?.length) return data.issues.map((issue) => (issue.path ? `${issue.path}: ${issue.message}` : issue.message)).join("; ");
  if (data.code === "UNAUTHORIZED") return "not signed in: open the sign-in link the server printed at start (or run `npx tudsr ui-link`)";
  const message = error instanceof Error ? error.message : String(error);
  return message === "Failed to fetch" ? "the studio server cannot be reached: is it still running?" : message;
}
