// Browser sign-in: the link `npm start` prints (`/api/session?token=...`) sets the session cookie and opens
// the studio; DELETE signs out. See server/api/auth.ts.
import { clearSessionCookie, sessionCookieFor } from "../../../server/api/auth";
import { errorResponse } from "../../../server/api/http";

export const dynamic = "force-dynamic";

export async function GET(request: Request): Promise<Response> {
  const token = new URL(request.url).searchParams.get("token") ?? "";
  const cookie = token ? await sessionCookieFor(token) : undefined;
  if (!cookie) {
    return errorResponse(401, "UNAUTHORIZED", "wrong or missing sign-in token: use the link `npm start` printed, or run `npx tudsr ui-link`");
  }
  // Relative Location: the browser stays on the host it used, and the token leaves the address bar.
  return new Response(null, { status: 303, headers: { location: "/", "set-cookie": cookie, "cache-control": "no-store" } });
}

export function DELETE(): Response {
  return new Response(null, { status: 204, headers: { "set-cookie": clearSessionCookie } });
}
