import { headers } from "next/headers";
import type { ReactNode } from "react";
import { authenticate } from "../server/api/auth";
import "./globals.css";
import { Nav } from "./ui/nav";
import { ToastProvider } from "./ui/toast";
import { ApiProvider } from "./ui/trpc";

export const metadata = { title: "TUDSR Studio", description: "High-resolution super-resolution pipelines" };
export const dynamic = "force-dynamic";

export default async function RootLayout({ children }: { children: ReactNode }) {
  // Pages are only served to a signed-in browser; the API checks every call on its own as well.
  const auth = await authenticate(await headers());
  return (
    <html lang="en">
      <body>
        <Nav />
        {auth.caller?.kind === "browser" ? (
          <ApiProvider>
            <ToastProvider>{children}</ToastProvider>
          </ApiProvider>
        ) : <SignIn problem={auth.caller ? undefined : auth.problem} />}
      </body>
    </html>
  );
}

function SignIn({ problem }: { problem?: string }) {
  return (
    <main className="page narrow">
      <h1>Sign in to this studio</h1>
      <p>
        The studio only answers browsers that opened its sign-in link. The server printed it when it started; print it again with:
      </p>
      <pre className="code">npx tudsr ui-link</pre>
      <p className="muted">(run it in the project folder, with the same TUDSR_DATA_DIR as the server).</p>
      {problem && !problem.startsWith("missing API key") && <p className="error-text">{problem}</p>}
    </main>
  );
}
