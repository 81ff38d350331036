import type { RouterInputs } from "../../../../server/api/contract";
import { query, uploadedForm, v1 } from "../../../../server/api/v1";

export const dynamic = "force-dynamic";

/** ?content=photo|art|unknown&degradation=bicubic|real-world|unknown&scale=4&kind=built-in|uploaded&q=text */
export const GET = v1(({ api, request }) => {
  const params = query(request);
  const filter: Record<string, string> = {};
  for (const key of ["content", "degradation", "scale", "kind", "q"]) {
    const value = params.get(key);
    if (value !== null && value !== "") filter[key] = value;
  }
  // The procedure validates the values (a bad one is a 400 naming it); scale is coerced from its text.
  return api.models.list(filter as RouterInputs["models"]["list"]);
});

/**
 * Uploads a model: multipart with a .onnx in `file`, or an ncnn pair in `param` + `bin`, and the optional fields
 * `id`, `title`, `content`, `degradation`; or a .onnx as raw bytes (`?name=my-x4.onnx&id=...`).
 */
export const POST = v1(async ({ api, request }) => api.models.upload(await uploadedForm(request, "model")), { status: 201 });
