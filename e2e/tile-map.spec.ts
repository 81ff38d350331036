// The progressive tile map, in Chromium with the real models: on the run page each stage of x8-twice fills in
// tile by tile (the count of tiles drawn on its canvas grows during the run and ends at the stage's tile count),
// and in the editor a canceled run keeps the tiles it finished on the generate node.
import { readFile } from "node:fs/promises";
import path from "node:path";
import type { Page } from "@playwright/test";
import sharp from "sharp";
import type { Graph } from "../nodes/graph/schema";
import { REPO_ROOT } from "./env";
import { expect, photoFile, test } from "./fixtures";

async function template(id: string, tiles: { tileSize: number; overlap: number }): Promise<Graph> {
  const graph = JSON.parse(await readFile(path.join(REPO_ROOT, "nodes", "templates", `${id}.json`), "utf8")) as Graph;
  for (const node of graph.nodes) if (node.type === "chunk") node.params = { ...tiles };
  return graph;
}

async function centre(size: number) {
  const meta = await sharp(photoFile("rocket.jpg")).metadata();
  return { left: Math.floor((meta.width! - size) / 2), top: Math.floor((meta.height! - size) / 2), width: size, height: size };
}

/** Tiles drawn on a node's map canvas so far (0 before the map appears). */
async function drawn(page: Page, nodeId: string): Promise<number> {
  const canvas = page.getByTestId(`tile-map-canvas-${nodeId}`);
  if ((await canvas.count()) === 0) return 0;
  return Number((await canvas.getAttribute("data-tiles-drawn")) ?? 0);
}

test("the run page fills in both stages of x8-twice tile by tile, ending with every tile", async ({ page, studio }, testInfo) => {
  // 256 px in 128 px tiles overlapping 16: 3x3 tiles of the x4 stage, then 9x9 of the x2 stage.
  const graph = await template("x8-twice", { tileSize: 128, overlap: 16 });
  const input = await studio.uploadPhoto(await studio.cropPhoto("rocket.jpg", await centre(256)));
  const run = await studio.startRun({ graph, inputs: { input: input.id } });
  await page.goto(`/runs/${run.id}`);

  const seen = new Set<number>();
  let midway = false;
  for (;;) {
    const count = await drawn(page, "generate2");
    seen.add(count);
    if (!midway && count >= 35 && count <= 50) {
      midway = true;
      await page.getByTestId("run-tile-maps").scrollIntoViewIfNeeded();
      await page.screenshot({ path: testInfo.outputPath("tile-map-mid-run.png") });
    }
    if ((await page.getByTestId("run-status").textContent())?.includes("succeeded")) break;
    await page.waitForTimeout(150);
  }
  const growing = [...seen].filter((count) => count > 0 && count < 81);
  expect(growing.length, `tiles drawn while it ran: ${[...seen].sort((a, b) => a - b).join(", ")}`).toBeGreaterThanOrEqual(3);
  expect(midway, "a moment with about half the x2 stage's tiles drawn").toBe(true);
  for (const [nodeId, total] of [["generate1", 9], ["generate2", 81]] as const) {
    await expect(page.getByTestId(`tile-map-${nodeId}`)).toHaveAttribute("data-tiles-total", String(total));
    await expect.poll(() => drawn(page, nodeId), { message: `${nodeId}: every tile drawn` }).toBe(total);
  }
  await expect(page.getByTestId("run-tile-maps")).toContainText("81 of 81 tiles · 2048×2048");
});

test("in the editor, a canceled run keeps the tiles it finished on the generate node", async ({ page, studio }) => {
  // 384 px in 64 px tiles overlapping 8 with the thick model: 7x7 tiles, far longer than the cancel takes.
  const graph = await template("x4-chunked", { tileSize: 64, overlap: 8 });
  const created = await studio.api.post("/api/v1/pipelines", { data: { name: "x4 in 64 px tiles", graph } });
  expect(created.ok(), await created.text()).toBeTruthy();
  await page.goto(`/pipelines/${((await created.json()) as { id: string }).id}`);
  await page.getByTestId("input-file-input").setInputFiles(await studio.cropPhoto("rocket.jpg", await centre(384)));
  await expect(page.getByTestId("input-picker-input")).toContainText("rocket");
  await page.getByTestId("run").click();

  await expect(page.getByTestId("tile-map-generate")).toHaveAttribute("data-tiles-total", "49", { timeout: 3 * 60_000 });
  await expect.poll(() => drawn(page, "generate"), { timeout: 3 * 60_000 }).toBeGreaterThanOrEqual(3);
  await page.getByTestId("cancel-run").click();
  await expect(page.getByTestId("run-bar")).toHaveAttribute("data-status", "canceled", { timeout: 60_000 });
  await expect(page.getByTestId("node-status-generate")).toHaveAttribute("data-status", "canceled");

  // What was finished stays drawn: as many tiles as the map says finished, and no more arrive.
  const map = page.getByTestId("tile-map-generate");
  await expect.poll(async () => (await drawn(page, "generate")) === Number(await map.getAttribute("data-tiles-finished"))).toBe(true);
  const kept = await drawn(page, "generate");
  expect(kept).toBeGreaterThanOrEqual(3);
  expect(kept).toBeLessThan(49);
  await page.waitForTimeout(1000);
  expect(await drawn(page, "generate")).toBe(kept);
  await expect(map).toContainText(`${kept} of 49 tiles`);
});
