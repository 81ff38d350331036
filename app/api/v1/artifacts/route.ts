import { uploadedForm, v1 } from "../../../../server/api/v1";

export const dynamic = "force-dynamic";

/** Uploads an input image: multipart (field `file`) or the raw bytes (`?name=photo.png`). */
export const POST = v1(async ({ api, request }) => api.artifacts.upload(await uploadedForm(request, "image")), { status: 201 });
