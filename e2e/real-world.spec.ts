// Real-world photos in the studio (issue 8): the gallery and the model picker say what each model suits, and
// x4-real (Real-ESRGAN x4plus in chunks) turns a 512x512 photo into a 2048x2048 output from the gallery.
import type { Locator } from "@playwright/test";
import { nodeOnCanvas } from "./canvas";
import { expect, test } from "./fixtures";

async function naturalSize(image: Locator): Promise<{ width: number; height: number }> {
  await expect(image).toBeVisible();
  await expect.poll(() => image.evaluate((element: HTMLImageElement) => element.complete && element.naturalWidth > 0)).toBe(true);
  return image.evaluate((element: HTMLImageElement) => ({ width: element.naturalWidth, height: element.naturalHeight }));
}

test("the gallery says which models each template runs and what they suit", async ({ page }, testInfo) => {
  await page.goto("/");
  const real = page.getByTestId("template-card-x4-real");
  await expect(real.getByTestId("template-model-realesrgan-x4plus")).toContainText("photo · real-world");
  const twice = page.getByTestId("template-card-x8-twice-real").getByTestId("template-models");
  await expect(twice.getByTestId("template-model-realesrgan-x4plus")).toContainText("photo · real-world");
  await expect(twice.locator("li")).toHaveCount(2);
  await expect(twice.locator("li").nth(1)).toContainText("photo · clean");
  const evaluation = page.getByTestId("template-card-eval-real-x4").getByTestId("template-models");
  await expect(evaluation.getByTestId("template-model-realesrgan-x4plus")).toContainText("photo · real-world");
  await expect(evaluation.getByTestId("template-model-esrgan-thick-x4")).toContainText("photo · clean");
  await expect(page.getByTestId("template-card-x4-chunked").getByTestId("template-model-esrgan-thick-x4")).toContainText("photo · clean");
  await real.scrollIntoViewIfNeeded();
  await page.screenshot({ path: testInfo.outputPath("gallery.png"), fullPage: true });
});

test("x4-real from the template gallery runs a 512x512 photo to a 2048x2048 output", async ({ page, studio }, testInfo) => {
  await page.goto("/");
  await page.getByTestId("template-card-x4-real").getByTestId("use-template").click();
  await expect(page).toHaveURL(/\/pipelines\/(?!new$)[^/]+$/);
  await expect(page.locator(".react-flow__node")).not.toHaveCount(0);
  await expect(page.getByTestId("problem-count")).toHaveText("valid");

  // The model picker: options grouped by what they suit, the chosen one labelled.
  await nodeOnCanvas(page, "generate").click();
  const picker = page.getByTestId("param-model");
  await expect(picker).toHaveValue("realesrgan-x4plus");
  await expect(page.getByTestId("param-model-fit")).toHaveText("photo · real-world");
  const groups = await picker.locator("optgroup").evaluateAll((elements) => elements.map((element) => element.getAttribute("label")));
  expect(groups.slice(0, 1)).toEqual(["photo · real-world"]);
  expect(groups).toContain("photo · clean");
  await expect(picker.locator('optgroup[label="photo · real-world"] option[value="realesrgan-x4plus"]')).toHaveCount(1);
  await expect(picker.locator('optgroup[label="photo · clean"] option[value="esrgan-thick-x4"]')).toHaveCount(1);
  await page.screenshot({ path: testInfo.outputPath("editor-model-picker.png") });

  const photo = await studio.cropPhoto("grace_hopper.jpg", { left: 0, top: 44, width: 512, height: 512 });
  await page.getByTestId("input-file-input").setInputFiles(photo);
  await expect(page.getByTestId("input-picker-input")).toContainText("grace_hopper");
  await page.getByTestId("run").click();
  // Auto tiles: as many as this machine's memory budget needs for x4plus (one when 512x512 fits whole).
  await expect(page.getByTestId("node-status-generate")).toContainText(/running \d+\/\d+/, { timeout: 2 * 60_000 });
  await page.screenshot({ path: testInfo.outputPath("editor-mid-run.png") });
  await expect(page.getByTestId("run-bar")).toHaveAttribute("data-status", "succeeded", { timeout: 8 * 60_000 });
  await expect(page.getByTestId("run-bar")).toContainText("2048×2048");

  await page.getByTestId("open-run").click();
  expect(await naturalSize(page.getByTestId("output-image"))).toEqual({ width: 2048, height: 2048 });
  await page.screenshot({ path: testInfo.outputPath("results-viewer-x4-real.png") });
});
