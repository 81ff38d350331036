// Watching a run must not slow it. x8-twice in 128 px tiles overlapping 16 (90 tiles: 3x3 of the thick x4 model,
// then 9x9 of psnr-small x2; many tiles make many events) on a 256 px centre crop of rocket.jpg, three times:
// through the API with nobody watching, watched in the editor, watched on its run page. Prints each run's engine time and where the machine's CPU went meanwhile (Chromium,
// the web server, the run executor; and the page's main thread as Chromium counts it), and each watched run's
// time as a ratio of the unwatched one (the aim: at most 1.15). A measurement, not a test: timings on a shared
// machine are noise, so `npm test` skips it; `npm run bench:watch` runs it. Each run gets a crop one pixel further
// right, so none is served from the node cache.
import { readFile } from "node:fs/promises";
import path from "node:path";
import type { CDPSession, Page } from "@playwright/test";
import sharp from "sharp";
import type { Graph } from "../nodes/graph/schema";
import { REPO_ROOT } from "./env";
import { expect, photoFile, test } from "./fixtures";

test.skip(!process.env.TUDSR_WATCH_COST, "a measurement: npm run bench:watch");
import { cpuBetween, type Role, ROLES, sampleCpu } from "./process-cpu";

const SIZE = 256;

/** The page's main thread: busy seconds (TaskDuration), of which script, layout and style. */
interface PageMetrics {
  task: number;
  script: number;
  layout: number;
  style: number;
}

interface Measured {
  how: string;
  engineS: number;
  cpu: Record<Role, number>;
  page?: PageMetrics;
}

async function pageMetrics(cdp: CDPSession): Promise<PageMetrics> {
  const { metrics } = (await cdp.send("Performance.getMetrics")) as { metrics: { name: string; value: number }[] };
  const value = (name: string) => metrics.find((metric) => metric.name === name)?.value ?? 0;
  return { task: value("TaskDuration"), script: value("ScriptDuration"), layout: value("LayoutDuration"), style: value("RecalcStyleDuration") };
}

/** Runs `watch` (which starts a run and waits for it to succeed, returning its id) and measures around it. */
async function measure(how: string, page: Page, watch: () => Promise<string>, engineMs: (runId: string) => Promise<number>): Promise<Measured> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Performance.enable");
  const before = { cpu: await sampleCpu(), page: await pageMetrics(cdp) };
  const runId = await watch();
  const after = { cpu: await sampleCpu(), page: await pageMetrics(cdp) };
  await cdp.detach();
  const delta = (name: keyof PageMetrics) => after.page[name] - before.page[name];
  return {
    how,
    engineS: (await engineMs(runId)) / 1000,
    cpu: cpuBetween(before.cpu, after.cpu),
    page: how === "unwatched" ? undefined : { task: delta("task"), script: delta("script"), layout: delta("layout"), style: delta("style") },
  };
}

test("what watching an x8-twice run costs (editor and run page vs unwatched)", async ({ page, studio }, testInfo) => {
  test.setTimeout(20 * 60_000);
  const meta = await sharp(photoFile("rocket.jpg")).metadata();
  const centre = { left: Math.floor((meta.width! - SIZE) / 2), top: Math.floor((meta.height! - SIZE) / 2), width: SIZE, height: SIZE };
  const crop = (shift: number) => studio.cropPhoto("rocket.jpg", { ...centre, left: centre.left + shift });
  const graph = JSON.parse(await readFile(path.join(REPO_ROOT, "nodes", "templates", "x8-twice.json"), "utf8")) as Graph;
  for (const node of graph.nodes) if (node.type === "chunk") node.params = { tileSize: 128, overlap: 16 };
  const created = await studio.api.post("/api/v1/pipelines", { data: { name: "x8-twice, 128 px tiles", graph } });
  expect(created.ok(), await created.text()).toBeTruthy();
  const pipelineId = ((await created.json()) as { id: string }).id;
  const engineMs = async (runId: string) => (await studio.waitForRun(runId, "succeeded")).totalMs!;

  // Warm-up: the models' sessions are made by the first run that uses them, not inside the measured ones.
  const small = await studio.uploadPhoto(await studio.cropPhoto("rocket.jpg", { ...centre, width: 64, height: 64 }));
  await studio.waitForRun((await studio.startRun({ graph, inputs: { input: small.id } })).id, "succeeded");

  const results: Measured[] = [];
  await page.goto("about:blank");
  const plain = await studio.uploadPhoto(await crop(0));
  results.push(
    await measure("unwatched", page, async () => {
      const run = await studio.startRun({ graph, inputs: { input: plain.id } });
      await studio.waitForRun(run.id, "succeeded", { timeoutMs: 8 * 60_000 });
      return run.id;
    }, engineMs),
  );

  await page.goto(`/pipelines/${pipelineId}`);
  await page.getByTestId("input-file-input").setInputFiles(await crop(1));
  await expect(page.getByTestId("input-picker-input")).toContainText("rocket");
  results.push(
    await measure("editor", page, async () => {
      await page.getByTestId("run").click();
      await expect(page.getByTestId("run-bar")).toHaveAttribute("data-status", "succeeded", { timeout: 8 * 60_000 });
      return (await page.getByTestId("open-run").getAttribute("href"))!.split("/").pop()!;
    }, engineMs),
  );

  const watched = await studio.uploadPhoto(await crop(2));
  results.push(
    await measure("run page", page, async () => {
      const run = await studio.startRun({ graph, inputs: { input: watched.id } });
      await page.goto(`/runs/${run.id}`);
      await expect(page.getByTestId("run-status")).toContainText("succeeded", { timeout: 8 * 60_000 });
      return run.id;
    }, engineMs),
  );

  const seconds = (value: number) => value.toFixed(1).padStart(6);
  const lines = [
    `x8-twice, ${SIZE} px rocket.jpg crop: engine s | CPU s: ${ROLES.join(", ")} | page main thread s: busy (script, layout, style)`,
    ...results.map(
      (result) =>
        `${result.how.padEnd(10)} ${seconds(result.engineS)} | ${ROLES.map((role) => seconds(result.cpu[role])).join(" ")} | ` +
        (result.page ? `${seconds(result.page.task)} (${result.page.script.toFixed(1)}, ${result.page.layout.toFixed(1)}, ${result.page.style.toFixed(1)})` : "–"),
    ),
  ];
  console.log(lines.join("\n"));
  await testInfo.attach("watch-cost.txt", { body: lines.join("\n"), contentType: "text/plain" });
  const [unwatched, ...watchedRuns] = results;
  for (const result of watchedRuns) console.log(`${result.how}: ${(result.engineS / unwatched.engineS).toFixed(2)}x the unwatched run's time (aim: <= 1.15x)`);
});
