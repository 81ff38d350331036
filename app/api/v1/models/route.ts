import { uploadedForm, v1 } from "../../../../server/api/v1";

export const dynamic = "force-dynamic";

export const GET = v1(({ api }) => api.models.list());

/** Uploads a .onnx model: multipart (field `file`, optional `id`, `title`) or raw bytes (`?name=my-x4.onnx&id=...`). */
export const POST = v1(async ({ api, request }) => api.models.upload(await uploadedForm(request, "model")), { status: 201 });
