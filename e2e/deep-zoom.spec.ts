// A large output (4096 x 4096 or more) opens on the run page by tiles (its Deep Zoom pyramid): only the tiles
// in view are loaded, never the whole PNG, zooming in loads the finer level's tiles, and the download is the
// PNG. By default the output is a bicubic x8 of a photo (seconds); E2E_DEEP_ZOOM_INPUT=<image> shows that
// image as the output instead (a load -> save run: e.g. an 8192 x 8192 result of `tudsr run`, on a studio
// started with TUDSR_MAX_PIXELS above its size), and E2E_DEEP_ZOOM_SHOT=<file.png> keeps a screenshot.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { expect, test } from "./fixtures";

const edge = (id: string, source: string, target: string) => ({ id, source, sourceHandle: "image", target, targetHandle: "image" });

test("a large output opens by tiles: only those in view load, zooming loads finer ones, the download stays the PNG", async ({ page, studio }) => {
  const given = process.env.E2E_DEEP_ZOOM_INPUT;
  // A given image may be large (an 8192 x 8192 PNG is ~100 MB, checked by a full decode): a longer timeout.
  const input = given
    ? ((await (await studio.api.post(`/api/v1/artifacts?name=${path.basename(given)}`, { data: await readFile(given), timeout: 300_000 })).json()) as { id: string })
    : await studio.uploadPhoto("astronaut.png"); // 512 x 512
  const nodes = [
    { id: "load", type: "load-image", params: {}, position: { x: 0, y: 0 } },
    ...(given ? [] : [{ id: "resize", type: "resize", params: { factor: 8 }, position: { x: 240, y: 0 } }]),
    { id: "save", type: "save-image", params: {}, position: { x: 480, y: 0 } },
  ];
  const edges = given ? [edge("e1", "load", "save")] : [edge("e1", "load", "resize"), edge("e2", "resize", "save")];
  const run = await studio.startRun({ graph: { version: 1, nodes, edges }, inputs: { input: input.id } });
  const done = await studio.waitForRun(run.id, "succeeded", { timeoutMs: 9 * 60_000 });
  const output = done.outputs[0];
  expect(output.width * output.height).toBeGreaterThanOrEqual(4096 * 4096);

  const requested: string[] = [];
  page.on("request", (request) => requested.push(new URL(request.url()).pathname));
  await page.goto(`/runs/${run.id}`);
  const viewer = page.getByTestId("tiled-viewer");
  await expect(viewer).toBeVisible();
  await expect(page.getByTestId("output-image")).toHaveCount(0);
  // Every tile in view has loaded (an <img> that failed or is still loading has no natural width).
  const allLoaded = async () =>
    expect
      .poll(() => page.getByTestId("viewer-tile").evaluateAll((images) => images.every((image) => (image as HTMLImageElement).naturalWidth > 0)))
      .toBe(true);
  await allLoaded();
  const fitTiles = await page.getByTestId("viewer-tile").count();
  expect(fitTiles).toBeGreaterThan(1);
  expect(fitTiles).toBeLessThan(40);

  // Actual pixels at the centre: the full-size level, only the tiles on screen.
  await viewer.focus();
  await page.keyboard.press("1");
  await expect(page.getByTestId("viewer-zoom")).toHaveText("100%");
  const level = Math.ceil(Math.log2(Math.max(output.width, output.height)));
  await expect(page.getByTestId("viewer-level")).toContainText(`level ${level} of ${level}`);
  await allLoaded();
  const full = await page.getByTestId("viewer-tile").evaluateAll((images) => images.map((image) => image.getAttribute("data-tile")!));
  const fullSize = full.filter((key) => key.startsWith(`${level}/`));
  expect(fullSize.length).toBeGreaterThan(0);
  // 1280 px wide: a 256 px tile grid covers the stage with at most 6 x 5 of them.
  expect(fullSize.length).toBeLessThanOrEqual(30);

  const shot = process.env.E2E_DEEP_ZOOM_SHOT;
  if (shot) await page.screenshot({ path: shot.replace(/\.png$/, "-100.png") });

  const tileRequests = requested.filter((url) => url.includes(`/api/v1/artifacts/${output.id}/tiles/`));
  expect(requested).not.toContain(`/api/v1/artifacts/${output.id}`); // the whole file is never fetched
  expect(tileRequests.length).toBeLessThan(80);
  await expect(page.getByTestId("download-output")).toHaveAttribute("href", `/api/v1/artifacts/${output.id}`);

  // Back to the whole picture for the record.
  await page.keyboard.press("0");
  await allLoaded();
  if (shot) await page.screenshot({ path: shot });
});
