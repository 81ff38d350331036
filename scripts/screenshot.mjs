#!/usr/bin/env node
// Looks at a page as a user would: signs a headless Chromium in to a running studio, opens a path and saves a
// screenshot. Usage (same TUDSR_DATA_DIR as the server):
//   node scripts/screenshot.mjs http://127.0.0.1:3000 /runs /tmp/runs.png [width height]
import { execFileSync } from "node:child_process";
import { chromium } from "@playwright/test";

const [origin, pagePath = "/", out = "/tmp/screenshot.png", width = "1280", height = "800"] = process.argv.slice(2);
if (!origin) {
  console.error("usage: node scripts/screenshot.mjs <origin> [path] [out.png] [width] [height]");
  process.exit(2);
}
const link = execFileSync(process.execPath, ["bin/tudsr.mjs", "ui-link", "--origin", origin], { encoding: "utf8" }).trim().split("\n").pop();
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium", args: ["--no-sandbox"] });
const page = await browser.newPage({ viewport: { width: Number(width), height: Number(height) } });
page.on("console", (message) => message.type() === "error" && console.error(`console: ${message.text()}`));
page.on("pageerror", (error) => console.error(`page error: ${error.message}`));
page.setDefaultTimeout(180_000);
await page.goto(link);
await page.goto(new URL(pagePath, origin).href);
// Not "networkidle": pages that poll or stream never go idle. Give queries a moment to answer.
await page.waitForTimeout(Number(process.env.SCREENSHOT_WAIT_MS ?? 3000));
await page.screenshot({ path: out });
console.log(out);
await browser.close();
