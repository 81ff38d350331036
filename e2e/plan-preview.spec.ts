// The plan preview: before anything runs, a selected chunk node shows the tiles it will cut over the input photo,
// with their count and the predicted time and memory; changing the tile size updates it; the run then cuts
// exactly the tiles the preview counted (real browser, real thick model).
import { expect, test } from "./fixtures";

test("the plan preview draws the tile grid, follows the tile size, and counts the tiles the run cuts", async ({ page, studio }, testInfo) => {
  await page.goto("/");
  await page.getByTestId("template-card-x4-chunked").getByTestId("use-template").click();
  await expect(page).toHaveURL(/\/pipelines\/(?!new$)[^/]+$/);
  await page.locator('.react-flow__node[data-id="chunk"]').click();
  const preview = page.getByTestId("plan-preview");
  await expect(preview).toContainText("Choose the “input” image");

  const photo = await studio.cropPhoto("astronaut.png", { left: 160, top: 40, width: 192, height: 192 });
  await page.getByTestId("input-file-input").setInputFiles(photo);
  await expect(page.getByTestId("input-picker-input")).toContainText("astronaut");
  // auto tiles: of the tilings that fit the memory budget, the predicted fastest (one tile, or a few where smaller
  // tiles run faster here); the grid drawn has as many tiles as counted.
  await expect(page.getByTestId("plan-tile-count")).toHaveText(/^[1-9]\d*$/, { timeout: 60_000 });
  await expect(page.getByTestId("plan-tile")).toHaveCount(Number(await page.getByTestId("plan-tile-count").textContent()));
  await expect(page.getByTestId("plan-generate-generate")).toContainText("esrgan-thick-x4");
  await expect(page.getByTestId("plan-total")).toHaveText(/\d/);
  await expect(page.getByTestId("plan-peak")).toContainText("MB");

  await page.getByTestId("param-tileSize").fill("64");
  await page.getByTestId("param-tileSize").press("Enter");
  // 64 px tiles with the 8 px overlap the thick model's border needs: 4 x 4 over 192 px.
  await expect(page.getByTestId("plan-tile-count")).toHaveText("16");
  await expect(page.getByTestId("plan-tile")).toHaveCount(16);
  await expect(preview).toContainText("4×4 of 64×64 px, overlap 8");
  await preview.screenshot({ path: testInfo.outputPath("plan-preview.png") });
  await page.screenshot({ path: testInfo.outputPath("plan-preview-editor.png") });

  await page.getByTestId("run").click();
  await expect(page.getByTestId("node-status-generate")).toContainText(/running \d+\/16\b/, { timeout: 3 * 60_000 });
  await expect(page.getByTestId("run-bar")).toHaveAttribute("data-status", "succeeded", { timeout: 5 * 60_000 });
});
