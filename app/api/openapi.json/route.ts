// The OpenAPI document of the scripts' API; public (it describes, it reads no data).
import { json } from "../../../server/api/http";
import { openApiDocument } from "../../../server/api/openapi";

export const dynamic = "force-dynamic";

export function GET(): Response {
  return json(openApiDocument());
}
