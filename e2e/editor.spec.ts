// The editor as a user drives it: building a pipeline by dragging nodes and wiring handles, refused
// connections, undo/redo, problems on nodes, saving, running on real photos with live node progress, cancel.
import type { Locator, Page } from "@playwright/test";
import { dropNode, edges, handle, nodeOnCanvas, wire } from "./canvas";
import { expect, test } from "./fixtures";

async function naturalSize(image: Locator): Promise<{ width: number; height: number }> {
  await expect(image).toBeVisible();
  await expect.poll(() => image.evaluate((element: HTMLImageElement) => element.complete && element.naturalWidth > 0)).toBe(true);
  return image.evaluate((element: HTMLImageElement) => ({ width: element.naturalWidth, height: element.naturalHeight }));
}

async function chooseInput(page: Page, file: string, fileName: string) {
  await page.getByTestId("input-file-input").setInputFiles(file);
  await expect(page.getByTestId("input-picker-input")).toContainText(fileName);
}

test("builds an x4 chunked pipeline from an empty canvas, runs it on a photo to a 4x output, re-runs only what changed, and keeps it after a reload", async ({ page, studio }, testInfo) => {
  await page.goto("/pipelines/new");
  await expect(page.getByText("An empty canvas")).toBeVisible();

  await dropNode(page, "load-image", 140, 90);
  await dropNode(page, "chunk", 420, 90);
  await dropNode(page, "generate", 140, 300);
  await dropNode(page, "stitch", 420, 300);
  await dropNode(page, "save-image", 280, 510);
  await expect(page.locator(".react-flow__node")).toHaveCount(5);

  await wire(page, handle(page, "load-image", "image", "source"), handle(page, "chunk", "image", "target"));
  await wire(page, handle(page, "chunk", "tiles", "source"), handle(page, "generate", "tiles", "target"));
  await wire(page, handle(page, "generate", "tiles", "source"), handle(page, "stitch", "tiles", "target"));
  await expect(edges(page)).toHaveCount(3);

  // Tiles into an image input: refused, with the reason, and no wire appears.
  await wire(page, handle(page, "chunk", "tiles", "source"), handle(page, "save-image", "image", "target"));
  await expect(page.getByTestId("connection-refused")).toContainText("(tiles) cannot feed");
  await expect(page.getByTestId("connection-refused")).toContainText("(image)");
  await expect(edges(page)).toHaveCount(3);

  await wire(page, handle(page, "stitch", "image", "source"), handle(page, "save-image", "image", "target"));
  await expect(edges(page)).toHaveCount(4);
  await expect(page.getByTestId("problem-count")).toHaveText("valid");

  // Undo takes the last wire away and the save node shows why it cannot run; redo brings it back.
  await page.locator(".react-flow__pane").click({ position: { x: 10, y: 10 } });
  await page.keyboard.press("Control+z");
  await expect(edges(page)).toHaveCount(3);
  await expect(page.getByTestId("node-problems-save-image")).toContainText('input "image" (image) is not connected');
  await page.keyboard.press("Control+Shift+z");
  await expect(edges(page)).toHaveCount(4);
  await expect(page.getByTestId("node-problems-save-image")).toHaveCount(0);
  // Deleting a node takes its wires along; undo restores both.
  await nodeOnCanvas(page, "chunk").click();
  await page.keyboard.press("Delete");
  await expect(page.locator(".react-flow__node")).toHaveCount(4);
  await expect(edges(page)).toHaveCount(2);
  await page.keyboard.press("Control+z");
  await expect(page.locator(".react-flow__node")).toHaveCount(5);
  await expect(edges(page)).toHaveCount(4);

  // Run it on a crop of a real photo and watch every node reach done.
  const photo = await studio.cropPhoto("chelsea.png", { left: 150, top: 60, width: 96, height: 80 });
  await chooseInput(page, photo, "chelsea");
  await page.getByTestId("run").click();
  for (const id of ["load-image", "chunk", "generate", "stitch", "save-image"]) {
    await expect(page.getByTestId(`node-status-${id}`)).toHaveAttribute("data-status", "done", { timeout: 5 * 60_000 });
  }
  await expect(page.getByTestId("run-bar")).toHaveAttribute("data-status", "succeeded");
  await expect(page.getByTestId("node-preview-stitch")).toBeVisible();
  await expect(page.getByTestId("node-status-stitch")).toContainText("384×320");

  // A changed stitch blend re-runs stitch and save only: everything upstream comes from the cache.
  await nodeOnCanvas(page, "stitch").click();
  await page.getByTestId("param-blend").selectOption("linear");
  await page.getByTestId("run").click();
  await expect(page.getByTestId("run-bar")).toHaveAttribute("data-status", "succeeded", { timeout: 5 * 60_000 });
  for (const id of ["load-image", "chunk", "generate"]) await expect(page.getByTestId(`node-status-${id}`)).toContainText("cached");
  await expect(page.getByTestId("node-status-stitch")).not.toContainText("cached");
  await expect(page.getByTestId("run-bar")).toContainText("3 of 5 nodes from cache");

  // Ctrl+S creates the pipeline; the result opens in the viewer at 4x.
  await page.getByTestId("pipeline-name").fill("Cat x4 (e2e)");
  await page.keyboard.press("Control+s");
  await expect(page).toHaveURL(/\/pipelines\/(?!new$)[^/]+$/);
  await expect(page.getByTestId("save-state")).toHaveText("v1 saved");
  const pipelineUrl = page.url();
  await page.getByTestId("open-run").click();
  await expect(page).toHaveURL(/\/runs\/[^/]+$/);
  expect(await naturalSize(page.getByTestId("output-image"))).toEqual({ width: 384, height: 320 });
  await page.screenshot({ path: testInfo.outputPath("results-viewer-x4.png") });

  // The saved pipeline survives a reload, wires, params and all.
  await page.goto(pipelineUrl);
  await expect(page.locator(".react-flow__node")).toHaveCount(5);
  await page.reload();
  await expect(page.locator(".react-flow__node")).toHaveCount(5);
  await expect(edges(page)).toHaveCount(4);
  await expect(page.getByTestId("pipeline-name")).toHaveValue("Cat x4 (e2e)");
  await expect(page.getByTestId("save-state")).toHaveText("v1 saved");
  await nodeOnCanvas(page, "stitch").click();
  await expect(page.getByTestId("param-blend").locator("option:checked")).toHaveText("linear");
});

test("an invalid graph shows each problem on the node it belongs to, and Run refuses it", async ({ page, consoleErrors }) => {
  void consoleErrors;
  await page.goto("/pipelines/new");
  await page.getByTestId("palette-search").fill("chunk");
  await page.getByTestId("palette-search").press("Enter");
  await page.getByTestId("palette-search").fill("generate");
  await page.getByTestId("palette-generate").click();
  await expect(page.getByTestId("node-problems-chunk")).toContainText('input "image" (image) is not connected');
  await expect(page.getByTestId("node-problems-generate")).toContainText("connect exactly one input: tiles or image");
  await expect(page.getByTestId("node-chunk")).not.toContainText("tiles or image");

  // An out-of-range param is refused in the form and never reaches the graph.
  await nodeOnCanvas(page, "chunk").click();
  // The plan preview waits for a valid graph rather than asking the server about this one.
  await expect(page.getByTestId("plan-preview")).toContainText("Fix the 2 problems shown on the nodes");
  await page.getByTestId("param-tileSize").fill("8");
  await page.getByTestId("param-tileSize").press("Enter");
  await expect(page.getByTestId("inspector")).toContainText("at least 16");

  await page.getByTestId("run").click();
  await expect(page.getByText(/Fix the \d+ problems shown on the nodes before running/)).toBeVisible();
  await expect(page.getByTestId("run-bar")).toHaveAttribute("data-status", "idle");
});

test("x8-twice from the template gallery runs a photo to a 2048x2048 output", async ({ page, studio }, testInfo) => {
  await page.goto("/");
  await page.getByTestId("template-card-x8-twice").getByTestId("use-template").click();
  await expect(page).toHaveURL(/\/pipelines\/(?!new$)[^/]+$/);
  await expect(page.locator(".react-flow__node")).not.toHaveCount(0);
  await expect(page.getByTestId("problem-count")).toHaveText("valid");

  const photo = await studio.cropPhoto("rocket.jpg", { left: 100, top: 60, width: 256, height: 256 });
  await chooseInput(page, photo, "rocket");
  await page.getByTestId("run").click();
  // Mid-run: a node with a progress bar of tiles.
  await expect(page.locator('[data-testid^="node-status-"][data-status="running"] [role="progressbar"]').first()).toBeVisible({ timeout: 2 * 60_000 });
  await page.screenshot({ path: testInfo.outputPath("editor-mid-run.png") });
  await expect(page.getByTestId("run-bar")).toHaveAttribute("data-status", "succeeded", { timeout: 8 * 60_000 });
  await expect(page.getByTestId("run-bar")).toContainText("2048×2048");
  await page.screenshot({ path: testInfo.outputPath("editor-done.png") });

  await page.getByTestId("open-run").click();
  expect(await naturalSize(page.getByTestId("output-image"))).toEqual({ width: 2048, height: 2048 });
  await page.screenshot({ path: testInfo.outputPath("results-viewer-x8.png") });
});

test("cancel stops a running run and the editor says so", async ({ page, studio }, testInfo) => {
  await page.goto("/");
  await page.getByTestId("template-card-x4-chunked").getByTestId("use-template").click();
  await expect(page).toHaveURL(/\/pipelines\/(?!new$)[^/]+$/);
  // 384x384 in 128 px tiles (the template's auto tiles would take it whole): 16 tiles of the thick model, far
  // longer than the cancel takes.
  await nodeOnCanvas(page, "chunk").click();
  for (const [param, value] of [["tileSize", "128"], ["overlap", "16"]]) {
    await page.getByTestId(`param-${param}`).fill(value);
    await page.getByTestId(`param-${param}`).press("Enter");
  }
  const photo = await studio.cropPhoto("astronaut.png", { left: 64, top: 0, width: 384, height: 384 });
  await chooseInput(page, photo, "astronaut");
  await page.getByTestId("run").click();
  await expect(page.getByTestId("node-status-generate")).toContainText(/running [1-9]\d*\/16/, { timeout: 3 * 60_000 });
  await page.screenshot({ path: testInfo.outputPath("editor-mid-run-x4.png") });
  const runId = (await page.getByTestId("open-run").getAttribute("href"))!.split("/").pop()!;
  await page.getByTestId("cancel-run").click();
  await expect(page.getByTestId("run-bar")).toHaveAttribute("data-status", "canceled", { timeout: 60_000 });
  expect((await studio.waitForRun(runId, "canceled")).outputs).toEqual([]);
  await expect(page.getByTestId("run-bar")).toContainText("canceled");
  await expect(page.getByTestId("node-status-generate")).toHaveAttribute("data-status", "canceled");
  await expect(page.getByTestId("node-status-save")).toHaveAttribute("data-status", "canceled");
  await expect(page.getByTestId("run")).toBeEnabled();
});
