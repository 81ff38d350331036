// The editor's actions beside building and running (pinned before the server is refactored): copy / cut /
// paste, version history and restore, Export / Import JSON, Save as template (and using it from the home page),
// and dropping a palette node into a loop's frame. None of these runs a model.
import type { Download, Locator, Page } from "@playwright/test";
import { readFile, writeFile } from "node:fs/promises";
import { dropNode, edges, handle, nodeOnCanvas, wire } from "./canvas";
import { expect, test } from "./fixtures";

const canvasNodes = (page: Page) => page.locator(".react-flow__node");
/** React Flow names every edge for assistive technology: "Edge from <source> to <target>". */
const edgeBetween = (page: Page, source: string, target: string) => page.getByLabel(`Edge from ${source} to ${target}`, { exact: true });
/** The notices at the bottom of the screen (role "status"). */
const toasts = (page: Page) => page.getByRole("status");

/** Selects the node and types a value into one of its number params (committed with Enter). */
async function setNumberParam(page: Page, nodeId: string, param: string, value: number) {
  await selectOnly(page, nodeId);
  await page.getByTestId(`param-${param}`).fill(String(value));
  await page.getByTestId(`param-${param}`).press("Enter");
  await expect(page.getByTestId(`param-${param}`)).toHaveValue(String(value));
}

/**
 * Selects only this node: a click on empty canvas first (a click on a node that is already part of a multiple
 * selection keeps that selection), then on the node's header (its top-left corner: a pasted copy may cover its
 * middle).
 */
async function selectOnly(page: Page, nodeId: string) {
  await page.locator(".react-flow__pane").click({ position: { x: 10, y: 10 } });
  await nodeOnCanvas(page, nodeId).click({ position: { x: 24, y: 10 } });
}

/** Shift+click on a node's header: adds it to the selection. */
async function addToSelection(page: Page, nodeId: string) {
  await nodeOnCanvas(page, nodeId).click({ position: { x: 24, y: 10 }, modifiers: ["Shift"] });
}

async function box(locator: Locator) {
  const found = await locator.boundingBox();
  expect(found, "the element has a box on screen").not.toBeNull();
  return found!;
}

interface ExportedFile {
  format: string;
  name: string;
  graph: {
    version: number;
    name?: string;
    nodes: { id: string; type: string; params: Record<string, unknown>; position: { x: number; y: number }; parentId?: string }[];
    edges: { id: string; source: string; sourceHandle: string; target: string; targetHandle: string }[];
  };
}

/** Clicks Export and reads the downloaded pipeline file. */
async function exportPipeline(page: Page): Promise<{ download: Download; file: ExportedFile }> {
  const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Export", exact: true }).click()]);
  const file = JSON.parse(await readFile((await download.path())!, "utf8")) as ExportedFile;
  return { download, file };
}

const node = (file: ExportedFile, id: string) => {
  const found = file.graph.nodes.find((candidate) => candidate.id === id);
  expect(found, `node ${id} in the exported graph (${file.graph.nodes.map((n) => n.id).join(", ")})`).toBeTruthy();
  return found!;
};

const wireIds = (file: ExportedFile) =>
  file.graph.edges.map((edge) => `${edge.source}.${edge.sourceHandle} -> ${edge.target}.${edge.targetHandle}`).sort();

test("copy / paste duplicates the selected nodes with new ids, their params and the wire between them; cut removes the originals", async ({ page }) => {
  await page.goto("/pipelines/new");
  await dropNode(page, "load-image", 140, 90);
  await dropNode(page, "chunk", 440, 90);
  await wire(page, handle(page, "load-image", "image", "source"), handle(page, "chunk", "image", "target"));
  await expect(edges(page)).toHaveCount(1);
  await setNumberParam(page, "chunk", "tileSize", 96);

  // Both nodes selected (Shift adds to the selection), then Ctrl+C, Ctrl+V.
  await selectOnly(page, "load-image");
  await addToSelection(page, "chunk");
  await expect(page.getByTestId("inspector")).toContainText("2 nodes selected");
  await page.keyboard.press("Control+c");
  await expect(toasts(page)).toContainText("Copied 2 nodes");
  await expect(canvasNodes(page)).toHaveCount(2); // copying changes nothing on the canvas
  await page.keyboard.press("Control+v");

  await expect(canvasNodes(page)).toHaveCount(4);
  await expect(nodeOnCanvas(page, "load-image-2")).toBeVisible();
  await expect(nodeOnCanvas(page, "chunk-2")).toBeVisible();
  // The wire between the two copies is copied too, between the copies; the original wire stays.
  await expect(edges(page)).toHaveCount(2);
  await expect(edgeBetween(page, "load-image-2", "chunk-2")).toHaveCount(1);
  await expect(edgeBetween(page, "load-image", "chunk")).toHaveCount(1);
  // The pasted copies are the selection, placed beside the originals (not on top of them).
  await expect(page.getByTestId("inspector")).toContainText("2 nodes selected");
  const [original, copy] = [await box(nodeOnCanvas(page, "chunk")), await box(nodeOnCanvas(page, "chunk-2"))];
  expect(Math.abs(copy.x - original.x) + Math.abs(copy.y - original.y)).toBeGreaterThan(20);
  // Same params: the inspector of the copy shows the original's tile size.
  await selectOnly(page, "chunk-2");
  await expect(page.getByTestId("param-tileSize")).toHaveValue("96");

  const { file } = await exportPipeline(page);
  expect(file.graph.nodes.map((n) => n.id).sort()).toEqual(["chunk", "chunk-2", "load-image", "load-image-2"]);
  expect(node(file, "chunk-2").type).toBe("chunk");
  expect(node(file, "chunk-2").params).toEqual(node(file, "chunk").params);
  expect(node(file, "chunk-2").params).toMatchObject({ tileSize: 96 });
  expect(node(file, "load-image-2").type).toBe("load-image");
  expect(wireIds(file)).toEqual(["load-image-2.image -> chunk-2.image", "load-image.image -> chunk.image"]);

  // Ctrl+X on the originals: they and their wire go, the copies stay.
  await selectOnly(page, "load-image");
  await addToSelection(page, "chunk");
  await expect(page.getByTestId("inspector")).toContainText("2 nodes selected");
  await page.keyboard.press("Control+x");
  await expect(toasts(page)).toContainText("Cut 2 nodes");
  await expect(canvasNodes(page)).toHaveCount(2);
  await expect(nodeOnCanvas(page, "load-image")).toHaveCount(0);
  await expect(nodeOnCanvas(page, "chunk")).toHaveCount(0);
  await expect(nodeOnCanvas(page, "load-image-2")).toBeVisible();
  await expect(nodeOnCanvas(page, "chunk-2")).toBeVisible();
  await expect(edges(page)).toHaveCount(1);
  await expect(edgeBetween(page, "load-image-2", "chunk-2")).toHaveCount(1);

  // What was cut is on the clipboard: Ctrl+V puts two wired nodes back.
  await page.keyboard.press("Control+v");
  await expect(canvasNodes(page)).toHaveCount(4);
  await expect(edges(page)).toHaveCount(2);
});

test("History restores an older version as a new one: the canvas shows its params again and no version is lost", async ({ page }) => {
  await page.goto("/pipelines/new");
  await dropNode(page, "load-image", 140, 90);
  await dropNode(page, "chunk", 440, 90);
  await wire(page, handle(page, "load-image", "image", "source"), handle(page, "chunk", "image", "target"));
  await setNumberParam(page, "chunk", "tileSize", 64);
  await page.getByTestId("pipeline-name").fill("History (e2e)");
  await page.keyboard.press("Control+s");
  await expect(page).toHaveURL(/\/pipelines\/(?!new$)[^/]+$/);
  await expect(page.getByTestId("save-state")).toHaveText("v1 saved");

  await setNumberParam(page, "chunk", "tileSize", 96);
  await expect(page.getByTestId("save-state")).toHaveText("● unsaved");
  await page.keyboard.press("Control+s");
  await expect(page.getByTestId("save-state")).toHaveText("v2 saved");

  await page.getByRole("button", { name: "History", exact: true }).click();
  const versions = page.getByTestId("version-history");
  await expect(versions.getByRole("listitem")).toHaveCount(2);
  await expect(versions.getByRole("listitem").first()).toContainText("v2");
  await expect(versions.getByRole("listitem").first()).toContainText("latest");
  await versions.getByRole("listitem").filter({ hasText: "v1" }).getByRole("button", { name: "Restore" }).click();

  await expect(toasts(page)).toContainText("Restored v1 as v3");
  await expect(page.getByTestId("save-state")).toHaveText("v3 saved");
  await selectOnly(page, "chunk");
  await expect(page.getByTestId("param-tileSize")).toHaveValue("64");
  // Nothing was destroyed: v3 is the restore, v2 (with 96) is still there to go back to.
  await expect(versions.getByRole("listitem")).toHaveCount(3);
  await expect(versions.getByRole("listitem").first()).toContainText("v3");
  await expect(versions.getByRole("listitem").first()).toContainText("Restored version 1");
  await expect(versions.getByRole("listitem").filter({ hasText: "v2" }).getByRole("button", { name: "Restore" })).toBeEnabled();
  await versions.getByRole("button", { name: "Close" }).click();
  await expect(versions).toHaveCount(0);

  // Saving after the restore adds a version on top.
  await setNumberParam(page, "chunk", "tileSize", 80);
  await page.keyboard.press("Control+s");
  await expect(page.getByTestId("save-state")).toHaveText("v4 saved");
  await page.getByRole("button", { name: "History", exact: true }).click();
  await expect(versions.getByRole("listitem")).toHaveCount(4);
  await expect(versions.getByRole("listitem").first()).toContainText("v4");

  // And restoring v2 after that brings 96 back, as v5.
  await versions.getByRole("listitem").filter({ hasText: "v2" }).getByRole("button", { name: "Restore" }).click();
  await expect(page.getByTestId("save-state")).toHaveText("v5 saved");
  await selectOnly(page, "chunk");
  await expect(page.getByTestId("param-tileSize")).toHaveValue("96");
});

test("Export JSON downloads the graph; importing it (edited) into a new pipeline shows its nodes; a malformed file is refused with a clear error and changes nothing", async ({ page }, testInfo) => {
  await page.goto("/pipelines/new");
  await dropNode(page, "load-image", 140, 90);
  await dropNode(page, "chunk", 440, 90);
  await dropNode(page, "save-image", 140, 330);
  await wire(page, handle(page, "load-image", "image", "source"), handle(page, "chunk", "image", "target"));
  await setNumberParam(page, "chunk", "tileSize", 96);
  await page.getByTestId("pipeline-name").fill("Export me (e2e)");

  const { download, file } = await exportPipeline(page);
  expect(download.suggestedFilename()).toBe("Export-me-e2e.tudsr.json");
  expect(file.format).toBe("tudsr-pipeline");
  expect(file.name).toBe("Export me (e2e)");
  expect(file.graph.version).toBe(1);
  expect(file.graph.nodes.map((n) => [n.id, n.type]).sort()).toEqual([
    ["chunk", "chunk"],
    ["load-image", "load-image"],
    ["save-image", "save-image"],
  ]);
  expect(node(file, "chunk").params).toEqual({ tileSize: 96 });
  expect(wireIds(file)).toEqual(["load-image.image -> chunk.image"]);

  // Edited by hand: another tile size, another name, and a wire more (load -> save).
  const edited = structuredClone(file);
  node(edited, "chunk").params.tileSize = 64;
  edited.graph.name = "Imported (e2e)";
  edited.graph.edges.push({ id: "e-extra", source: "load-image", sourceHandle: "image", target: "save-image", targetHandle: "image" });
  const editedPath = testInfo.outputPath("edited.tudsr.json");
  await writeFile(editedPath, JSON.stringify(edited));

  // A new pipeline, in a tab of its own (the first one has unsaved work).
  const fresh = await page.context().newPage();
  await fresh.goto("/pipelines/new");
  await expect(fresh.getByText("An empty canvas")).toBeVisible();
  await fresh.getByTestId("import-file").setInputFiles(editedPath);
  await expect(toasts(fresh)).toContainText("Imported edited.tudsr.json (3 nodes)");
  await expect(canvasNodes(fresh)).toHaveCount(3);
  for (const id of ["load-image", "chunk", "save-image"]) await expect(nodeOnCanvas(fresh, id)).toBeVisible();
  await expect(edges(fresh)).toHaveCount(2);
  await expect(edgeBetween(fresh, "load-image", "chunk")).toHaveCount(1);
  await expect(edgeBetween(fresh, "load-image", "save-image")).toHaveCount(1);
  await expect(fresh.getByTestId("pipeline-name")).toHaveValue("Imported (e2e)");
  await selectOnly(fresh, "chunk");
  await expect(fresh.getByTestId("param-tileSize")).toHaveValue("64");

  // Not JSON: an error that names the file, and the canvas is as it was.
  await fresh.getByTestId("import-file").setInputFiles({ name: "broken.tudsr.json", mimeType: "application/json", buffer: Buffer.from('{"format": "tudsr-pipeline", "graph": {') });
  await expect(toasts(fresh)).toContainText("broken.tudsr.json is not JSON");
  // JSON, but not a pipeline: refused with what is wrong.
  await fresh.getByTestId("import-file").setInputFiles({ name: "not-a-graph.json", mimeType: "application/json", buffer: Buffer.from(JSON.stringify({ format: "tudsr-pipeline", graph: { version: 1, nodes: "none" } })) });
  await expect(toasts(fresh)).toContainText("not-a-graph.json is not a pipeline");
  await expect(toasts(fresh)).not.toContainText("Imported broken");
  await expect(toasts(fresh)).not.toContainText("Imported not-a-graph");
  await expect(canvasNodes(fresh)).toHaveCount(3);
  await expect(edges(fresh)).toHaveCount(2);
  await expect(fresh.getByTestId("pipeline-name")).toHaveValue("Imported (e2e)");
  await selectOnly(fresh, "chunk");
  await expect(fresh.getByTestId("param-tileSize")).toHaveValue("64");
  const after = (await exportPipeline(fresh)).file;
  expect(after.graph.nodes.map((n) => n.id).sort()).toEqual(["chunk", "load-image", "save-image"]);
  expect(wireIds(after)).toEqual(["load-image.image -> chunk.image", "load-image.image -> save-image.image"]);
});

test("Save as template puts the canvas in the home page's template gallery, and Use template opens a copy with the same nodes", async ({ page }) => {
  await page.goto("/pipelines/new");
  await dropNode(page, "load-image", 140, 90);
  await dropNode(page, "save-image", 440, 90);
  await wire(page, handle(page, "load-image", "image", "source"), handle(page, "save-image", "image", "target"));
  await selectOnly(page, "save-image");
  await page.getByTestId("param-format").selectOption("jpeg");
  await expect(page.getByTestId("problem-count")).toHaveText("valid");
  await page.getByTestId("pipeline-name").fill("Pinned JPEG copy");
  // Saved, so that leaving the page asks nothing.
  await page.keyboard.press("Control+s");
  await expect(page.getByTestId("save-state")).toHaveText("v1 saved");
  const pipelineUrl = page.url();

  await page.getByRole("button", { name: "Save as template" }).click();
  const form = page.getByTestId("template-form");
  await expect(form.getByLabel("Name", { exact: true })).toHaveValue("Pinned JPEG copy");
  await form.getByLabel("Name", { exact: true }).fill("Pinned JPEG template");
  await form.getByLabel("One-line description").fill("load -> save as JPEG, from the e2e pins");
  await form.getByRole("button", { name: "Save template" }).click();
  await expect(toasts(page)).toContainText("Saved template “Pinned JPEG template”");
  await expect(form).toHaveCount(0);

  await page.goto("/");
  const card = page.getByTestId("template-card-pinned-jpeg-template");
  await expect(card).toBeVisible();
  await expect(card).toContainText("Pinned JPEG template");
  await expect(card).toContainText("yours");
  await expect(card).toContainText("load -> save as JPEG, from the e2e pins");
  await card.getByRole("button", { name: "Use template" }).click();

  await expect(page).toHaveURL(/\/pipelines\/(?!new$)[^/]+$/);
  expect(page.url()).not.toBe(pipelineUrl);
  await expect(canvasNodes(page)).toHaveCount(2);
  await expect(nodeOnCanvas(page, "load-image")).toBeVisible();
  await expect(nodeOnCanvas(page, "save-image")).toBeVisible();
  await expect(edgeBetween(page, "load-image", "save-image")).toHaveCount(1);
  await expect(page.getByTestId("pipeline-name")).toHaveValue("Pinned JPEG template");
  await expect(page.getByTestId("save-state")).toHaveText("v1 saved");
  await selectOnly(page, "save-image");
  await expect(page.getByTestId("param-format").locator("option:checked")).toHaveText("jpeg");
});

test("a palette node dropped into a loop's frame becomes the loop's child: saved with parentId, moves with the loop, leaves it when dragged out", async ({ page }) => {
  await page.goto("/pipelines/new");
  // An empty canvas is not fitted: canvas pixels are flow coordinates. The loop's frame is 560x220 from its header.
  await dropNode(page, "loop", 140, 60);
  await dropNode(page, "generate", 300, 160); // inside the frame
  await dropNode(page, "chunk", 300, 420); // below it

  const { file } = await exportPipeline(page);
  expect(node(file, "loop").type).toBe("loop");
  expect(node(file, "generate").parentId).toBe("loop");
  expect(node(file, "chunk").parentId).toBeUndefined();
  // A child's position is relative to its loop's frame.
  expect(node(file, "generate").position).toEqual({ x: 300 - 140, y: 160 - 60 });

  // Dragging the loop by its header takes the child along; the node outside stays where it was.
  const [loopBefore, childBefore, outsideBefore] = [await box(nodeOnCanvas(page, "loop")), await box(nodeOnCanvas(page, "generate")), await box(nodeOnCanvas(page, "chunk"))];
  await page.mouse.move(loopBefore.x + 60, loopBefore.y + 12);
  await page.mouse.down();
  await page.mouse.move(loopBefore.x + 100, loopBefore.y + 30, { steps: 5 });
  await page.mouse.move(loopBefore.x + 140, loopBefore.y + 52, { steps: 5 });
  await page.mouse.up();
  const [loopAfter, childAfter, outsideAfter] = [await box(nodeOnCanvas(page, "loop")), await box(nodeOnCanvas(page, "generate")), await box(nodeOnCanvas(page, "chunk"))];
  // (React Flow starts the drag at the first move past its threshold, so the loop moves a little less than the mouse.)
  const loopMoved = { x: loopAfter.x - loopBefore.x, y: loopAfter.y - loopBefore.y };
  expect(loopMoved.x).toBeGreaterThan(40);
  expect(loopMoved.y).toBeGreaterThan(20);
  expect(childAfter.x - childBefore.x).toBeCloseTo(loopMoved.x, 0);
  expect(childAfter.y - childBefore.y).toBeCloseTo(loopMoved.y, 0);
  expect([outsideAfter.x, outsideAfter.y]).toEqual([outsideBefore.x, outsideBefore.y]);
  const moved = (await exportPipeline(page)).file;
  expect(node(moved, "generate").parentId).toBe("loop");
  expect(node(moved, "generate").position).toEqual(node(file, "generate").position);

  // The child copied without its loop is pasted on the top level beside it (not at its frame-relative position).
  await selectOnly(page, "generate");
  await page.keyboard.press("Control+c");
  await page.keyboard.press("Control+v");
  await expect(nodeOnCanvas(page, "generate-2")).toBeVisible();
  const [childNow, pastedNow] = [await box(nodeOnCanvas(page, "generate")), await box(nodeOnCanvas(page, "generate-2"))];
  expect(pastedNow.x - childNow.x).toBeCloseTo(40, 0);
  expect(pastedNow.y - childNow.y).toBeCloseTo(40, 0);
  const pasted = (await exportPipeline(page)).file;
  expect(node(pasted, "generate-2").parentId).toBeUndefined();
  const frame = node(pasted, "loop").position;
  const inFrame = node(pasted, "generate").position;
  expect(node(pasted, "generate-2").position).toEqual({ x: frame.x + inFrame.x + 40, y: frame.y + inFrame.y + 40 });
  await page.keyboard.press("Delete");
  await expect(nodeOnCanvas(page, "generate-2")).toHaveCount(0);

  // Dragged out of the frame, the node leaves the loop: a top-level node, placed below and right of the frame.
  const child = await box(nodeOnCanvas(page, "generate"));
  await page.mouse.move(child.x + 30, child.y + 10);
  await page.mouse.down();
  await page.mouse.move(child.x + 30, child.y + 150, { steps: 5 });
  await page.mouse.move(child.x + 420, child.y + 330, { steps: 5 });
  await page.mouse.up();
  const out = (await exportPipeline(page)).file;
  expect(node(out, "generate").parentId).toBeUndefined();
  const loopNow = node(out, "loop").position;
  expect(node(out, "generate").position.x).toBeGreaterThan(loopNow.x + 560 - 230);
  expect(node(out, "generate").position.y).toBeGreaterThan(loopNow.y + 220);
});
