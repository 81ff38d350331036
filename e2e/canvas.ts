// Helpers for driving the editor's canvas as a user does: nodes, handles and edges found by what React Flow
// renders, nodes dragged from the palette, ports wired by pressing on one handle and releasing on another.
import type { Locator, Page } from "@playwright/test";
import { expect } from "./fixtures";

export const nodeOnCanvas = (page: Page, id: string) => page.locator(`.react-flow__node[data-id="${id}"]`);
export const edges = (page: Page) => page.locator(".react-flow__edge");
export const handle = (page: Page, nodeId: string, port: string, side: "source" | "target") =>
  nodeOnCanvas(page, nodeId).locator(`.react-flow__handle.${side}[data-handleid="${port}"]`);

/** Drags a node type from the palette onto the canvas at (x, y) in canvas pixels; its header lands there. */
export async function dropNode(page: Page, nodeType: string, x: number, y: number, id = nodeType) {
  await page.getByTestId(`palette-${nodeType}`).dragTo(page.getByTestId("canvas"), { targetPosition: { x, y } });
  await expect(nodeOnCanvas(page, id)).toBeVisible();
}

/** Presses on one handle and releases on another, as a user wires two ports. */
export async function wire(page: Page, from: Locator, to: Locator) {
  const a = (await from.boundingBox())!;
  const b = (await to.boundingBox())!;
  await page.mouse.move(a.x + a.width / 2, a.y + a.height / 2);
  await page.mouse.down();
  await page.mouse.move((a.x + b.x) / 2, (a.y + b.y) / 2, { steps: 5 });
  await page.mouse.move(b.x + b.width / 2, b.y + b.height / 2, { steps: 5 });
  await page.mouse.up();
}
