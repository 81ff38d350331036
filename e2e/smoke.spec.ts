// Smoke: the built studio serves a signed-in browser its pages through the top nav without console errors,
// and a browser that has not signed in gets the sign-in page, no data.
import { ConsoleErrors, expect, test } from "./fixtures";

const SIGN_IN = "Sign in to this studio";

test("signed in: the home page loads and the nav reaches Runs, Models and API keys without console errors", async ({ page }) => {
  await page.goto("/");
  const nav = page.getByRole("banner").getByRole("navigation");
  await expect(nav.getByRole("link", { name: "Pipelines", exact: true })).toBeVisible();
  await expect(page.getByRole("heading", { name: SIGN_IN })).toHaveCount(0);
  for (const [label, pathname] of [
    ["Runs", "/runs"],
    ["Models", "/models"],
    ["API keys", "/keys"],
    ["Pipelines", "/"],
  ] as const) {
    await nav.getByRole("link", { name: label, exact: true }).click();
    await expect(page).toHaveURL((url) => url.pathname === pathname);
    await expect(page.getByRole("heading", { name: SIGN_IN })).toHaveCount(0);
    // Let the page's own queries answer, so an error they cause shows up in this test.
    await page.waitForLoadState("networkidle");
  }
  // The console-error check of the fixtures runs when the test ends.
});

test("a browser that has not signed in sees the sign-in page, and no data", async ({ browser, baseURL, studio }) => {
  // Something to hide: a saved pipeline (made with an API key, as a script would).
  const secret = `smoke secret ${Date.now()}`;
  const template = (await (await studio.api.get("/api/v1/templates/x4-chunked")).json()) as { graph: unknown };
  const created = await studio.api.post("/api/v1/pipelines", { data: { name: secret, graph: template.graph } });
  expect(created.status()).toBe(201);

  const context = await browser.newContext({ baseURL });
  const errors = new ConsoleErrors(context);
  // Every API answer this browser gets must be a refusal, and no answer at all (pages, their prefetches) may
  // carry the pipeline: a layout that hides a page's content can still send the page's data along.
  const answered: string[] = [];
  const leaks: Promise<string | undefined>[] = [];
  context.on("response", (response) => {
    const url = new URL(response.url());
    if (url.pathname.startsWith("/api/") && response.status() < 400) answered.push(`${response.status()} ${url.pathname}`);
    if (["document", "fetch", "xhr"].includes(response.request().resourceType())) {
      leaks.push(response.text().then((body) => (body.includes(secret) ? `${response.status()} ${response.url()}` : undefined), () => undefined));
    }
  });
  const page = await context.newPage();
  for (const pathname of ["/", "/runs", "/models", "/keys"]) {
    await page.goto(pathname);
    await expect(page.getByRole("heading", { name: SIGN_IN })).toBeVisible();
    expect(await page.content()).not.toContain(secret);
  }
  // Its API calls carry no key and no session: refused.
  const list = await page.request.get("/api/v1/pipelines");
  expect(list.status()).toBe(401);
  expect(await list.text()).not.toContain(secret);
  expect(answered).toEqual([]);
  expect((await Promise.all(leaks)).filter(Boolean)).toEqual([]);
  await context.close();
  expect(errors.unexpected()).toEqual([]);
});
